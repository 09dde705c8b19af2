package io.gyre.processing.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentFailure;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SubscribingProcessor;
import io.gyre.serialization.SerializationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscribing processor: calls its handlers on the appending thread right after an append committed, retrying
 * with back-off on that thread, then dead-lettering or stopping per its policy. Appending threads dispatch in
 * parallel (each holds the read side of a lock); a retry of dead letters holds the write side, so that it never
 * interleaves with a live event of the same aggregate. Internal: not part of Gyre's API.
 */
public final class SubscribingRuntime {

    private static final Logger log = LoggerFactory.getLogger(SubscribingRuntime.class);

    private final SubscribingProcessor definition;
    private final EventDispatcher dispatcher;
    private final @Nullable DeadLetterStore deadLetters;
    private final Clock clock;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Set<StreamId> parked = ConcurrentHashMap.newKeySet();
    private volatile boolean stopped;
    private volatile @Nullable SegmentFailure failure;

    /**
     * @param definition  the processor
     * @param dispatcher  calls its handlers
     * @param deadLetters the dead-letter store, or null
     * @param clock       for dead letters and failures
     */
    public SubscribingRuntime(SubscribingProcessor definition, EventDispatcher dispatcher,
                              @Nullable DeadLetterStore deadLetters, Clock clock) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
        this.deadLetters = deadLetters;
        this.clock = Objects.requireNonNull(clock, "clock");
        if (deadLetters != null) {
            try {
                deadLetters.list(definition.name(), 0).forEach(letter -> parked.add(letter.event().stream()));
            } catch (RuntimeException e) {
                log.warn("Processor '{}' could not read its dead letters; their aggregates' later events are not "
                        + "held back", definition.name(), e);
            }
        }
    }

    /** @return the processor's name */
    public String name() {
        return definition.name();
    }

    /**
     * Hands a committed append's events to the handlers. Never throws: the append has committed, whatever happens.
     *
     * @param request the append
     * @param result  where its events landed
     */
    public void appended(AppendRequest request, AppendResult result) {
        if (stopped || request.events().isEmpty()) {
            return;
        }
        lock.readLock().lock();
        try {
            long sequence = result.firstSequence();
            for (EventData data : request.events()) {
                StoredEvent event = new StoredEvent(0, request.aggregateType(), request.aggregateId(), sequence++,
                        data.eventId(), request.commandId(), data.type(), data.payload(), data.metadata(),
                        data.timestamp(), data.revision());
                if (stopped) {
                    return;
                }
                deliver(event);
            }
        } catch (RuntimeException e) {
            log.error("Processor '{}' failed after an append of {}", definition.name(), request.stream(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    private void deliver(StoredEvent event) {
        if (parked.contains(event.stream())) {
            addLetter(event, "waits behind an earlier dead letter of " + event.stream(), 0, clock.instant());
            return;
        }
        ErrorPolicy policy = definition.errorPolicy();
        Instant since = null;
        for (int attempt = 1; ; attempt++) {
            Throwable error;
            try {
                dispatcher.dispatch(event, null, 0, null);
                return;
            } catch (Throwable e) {
                error = e;
            }
            if (since == null) {
                since = clock.instant();
            }
            boolean retry = attempt < policy.attempts() && !(error instanceof SerializationException);
            if (retry) {
                Duration backoff = policy.backoffAfter(attempt, ThreadLocalRandom.current());
                try {
                    Thread.sleep(backoff.toMillis(), (int) (backoff.toNanos() % 1_000_000));
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            String cause = error.getClass().getName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
            if (policy.then() == ErrorPolicy.Action.DEAD_LETTER && deadLetters != null) {
                addLetter(event, cause, attempt, since);
                parked.add(event.stream());
                log.warn("Processor '{}' dead-lettered event {} ({} {} #{}) after {} attempts", definition.name(),
                        event.eventId(), event.type(), event.stream(), event.sequence(), attempt, error);
            } else {
                failure = new SegmentFailure(event.eventId(), event.stream(), event.sequence(), event.type(), null,
                        cause, error, attempt, since);
                stopped = true;
                log.error("Processor '{}' stopped at event {} ({} {} #{}) after {} attempts; it misses events until "
                        + "node.processors().resume(\"{}\")", definition.name(), event.eventId(), event.type(),
                        event.stream(), event.sequence(), attempt, definition.name(), error);
            }
            return;
        }
    }

    private void addLetter(StoredEvent event, String cause, int attempts, Instant since) {
        try {
            deadLetters.add(new DeadLetter(definition.name(), 0, event, null, cause, attempts, since, clock.instant()));
        } catch (RuntimeException e) {
            log.error("Processor '{}' lost event {} ({} {} #{}): it could not be dead-lettered", definition.name(),
                    event.eventId(), event.type(), event.stream(), event.sequence(), e);
        }
    }

    /** @return what a retry of the dead letters did */
    public DeadLetterRetry retryDeadLetters() {
        if (deadLetters == null) {
            return new DeadLetterRetry(0, 0);
        }
        lock.writeLock().lock();
        try {
            Map<StreamId, List<DeadLetter>> byStream = new LinkedHashMap<>();
            for (DeadLetter letter : deadLetters.list(definition.name(), 0)) {
                byStream.computeIfAbsent(letter.event().stream(), stream -> new ArrayList<>()).add(letter);
            }
            int handled = 0;
            int remaining = 0;
            for (Map.Entry<StreamId, List<DeadLetter>> entry : byStream.entrySet()) {
                int done = 0;
                for (DeadLetter letter : entry.getValue()) {
                    try {
                        dispatcher.dispatch(letter.event(), null, 0, null);
                    } catch (Throwable e) {
                        deadLetters.add(letter.failedAgain(e.getClass().getName() + ": " + e.getMessage(),
                                clock.instant()));
                        break;
                    }
                    deadLetters.remove(definition.name(), letter.event().eventId());
                    done++;
                }
                handled += done;
                remaining += entry.getValue().size() - done;
                if (done == entry.getValue().size()) {
                    parked.remove(entry.getKey());
                }
            }
            return new DeadLetterRetry(handled, remaining);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Delivers events again after a stop; those appended meanwhile are not delivered. */
    public void resume() {
        if (stopped) {
            failure = null;
            stopped = false;
            log.info("Processor '{}' resumes with the next append", definition.name());
        }
    }

    /** @return the status: one segment, live or stopped */
    public ProcessorStatus status() {
        int letters = 0;
        if (deadLetters != null) {
            try {
                letters = deadLetters.counts(definition.name()).getOrDefault(0, 0);
            } catch (RuntimeException e) {
                log.debug("Processor '{}' status without dead letters: the store failed", definition.name(), e);
            }
        }
        SegmentStatus segment = new SegmentStatus(0, stopped ? SegmentState.STOPPED : SegmentState.LIVE, null, 0, null,
                0, Duration.ZERO, failure, letters);
        return new ProcessorStatus(definition.name(), ProcessorStatus.Kind.SUBSCRIBING, List.of(segment));
    }
}
