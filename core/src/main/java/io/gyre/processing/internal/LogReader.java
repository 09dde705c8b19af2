package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.processing.LogReadFailure;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that reads the global log once for every segment a node runs of one tracking processor, and hands
 * each batch to {@link SegmentQueues#dispatch}. When a read comes back empty it waits for an append, a
 * notification or the poll interval; when the log is ahead, it reads batches back to back, as long as no attached
 * segment's queue is full. A failing read is tried again after a back-off that doubles up to 5 seconds, logged at
 * the first failure and then once a minute. Internal: not part of Gyre's API.
 */
final class LogReader {

    private static final Logger log = LoggerFactory.getLogger(LogReader.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final TrackingRuntime runtime;
    private final Thread thread;
    /** Why reads fail, while they do: shown in the processor's status. */
    private volatile @Nullable LogReadFailure failure;

    LogReader(TrackingRuntime runtime, String threadName) {
        this.runtime = runtime;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    /** @return why the reader cannot read the global log, or null while it can */
    @Nullable LogReadFailure failure() {
        return failure;
    }

    void start() {
        thread.start();
    }

    void stop(Duration timeout) {
        thread.interrupt();
        try {
            thread.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        int failures = 0;
        long lastLogged = 0;
        try {
            while (true) {
                SegmentQueues.ReadTicket ticket = runtime.queues.awaitReadable();
                if (ticket == null) {
                    return;
                }
                List<TrackedEvent> batch;
                try {
                    batch = runtime.globalLog.readAll(ticket.from(), runtime.definition.batchSize());
                } catch (RuntimeException e) {
                    failures++;
                    LogReadFailure previous = failure;
                    failure = new LogReadFailure(e.getClass().getName() + ": " + e.getMessage(),
                            previous == null ? runtime.clock.instant() : previous.since(), failures);
                    Duration delay = Duration.ofMillis(Math.min(MAX_BACKOFF.toMillis(),
                            50L << Math.min(failures - 1, 10)));
                    if (failures == 1 || System.nanoTime() - lastLogged > 60_000_000_000L) {
                        lastLogged = System.nanoTime();
                        log.warn("Processor '{}' could not read the global log after {} ({} failures in a row); "
                                + "trying again in {} ms", runtime.name, ticket.from(), failures, delay.toMillis(), e);
                    }
                    runtime.queues.pause(delay);
                    continue;
                }
                if (failures > 0) {
                    log.info("Processor '{}' reads the global log again after {} failures", runtime.name, failures);
                    failures = 0;
                    failure = null;
                }
                try {
                    if (batch.isEmpty()) {
                        runtime.queues.caughtUp(ticket);
                    } else {
                        runtime.queues.dispatch(ticket, batch);
                    }
                } catch (RuntimeException e) {
                    log.error("Processor '{}' failed to hand out a batch read after {}; reading it again in {}",
                            runtime.name, ticket.from(), MAX_BACKOFF, e);
                    runtime.queues.pause(MAX_BACKOFF);
                }
            }
        } catch (InterruptedException e) {
            // Closing.
        }
    }
}
