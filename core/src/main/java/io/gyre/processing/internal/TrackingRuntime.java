package io.gyre.processing.internal;

import io.gyre.eventstore.ReadAllEvents;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.Delivery;
import io.gyre.processing.GlobalLogMonitor;
import io.gyre.processing.GlobalLogStall;
import io.gyre.processing.OwnedSegments;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import io.gyre.processing.TrackingProcessor;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tracking processor on this node: follows which segments it owns, claims them, runs a {@link SegmentWorker}
 * per owned segment and one {@link LogReader} for all of them over {@link SegmentQueues}, and carries out the
 * processor's commands (reset, resume, retry of dead letters) and status.
 *
 * <p>Ownership changes, claims and resets run one at a time on this processor's control thread; segment work runs
 * on its pool, one task per worker at a time; the reader has a thread of its own. Internal: not part of Gyre's API.
 */
public final class TrackingRuntime {

    private static final Logger log = LoggerFactory.getLogger(TrackingRuntime.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    final TrackingProcessor definition;
    final String name;
    final ReadAllEvents globalLog;
    final EventDispatcher dispatcher;
    final TokenStore tokens;
    final @Nullable ProcessingTransactions transactions;
    final @Nullable DeadLetterStore deadLetters;
    final String owner;
    final Clock clock;
    final ExecutorService pool;
    final ScheduledExecutorService timer;
    final SegmentQueues queues;
    private final ExecutorService control;
    private final SegmentOwnership ownership;
    private final LogReader reader;
    private final @Nullable GlobalLogMonitor monitor;
    private SegmentOwnership.@Nullable Registration registration;

    /**
     * @param definition  the processor
     * @param log         the global log
     * @param dispatcher  calls its handlers
     * @param tokens      its token store (the transactional delivery's, if it has one)
     * @param deadLetters the dead-letter store, null when there is none
     * @param ownership   decides which segments this node runs
     * @param clock       for status and dead letters
     * @param timer       the node's timer for retries and back-offs
     * @param nodeName    the node's name, for thread names
     * @param monitor     tells when the global log is stalled, for the status; null when the store cannot
     */
    public TrackingRuntime(TrackingProcessor definition, ReadAllEvents log, EventDispatcher dispatcher,
                           TokenStore tokens, @Nullable DeadLetterStore deadLetters, SegmentOwnership ownership,
                           Clock clock, ScheduledExecutorService timer, String nodeName,
                           @Nullable GlobalLogMonitor monitor) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.name = definition.name();
        this.globalLog = Objects.requireNonNull(log, "log");
        this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.transactions = definition.delivery() instanceof Delivery.Transactional transactional
                ? transactional.transactions() : null;
        this.deadLetters = deadLetters;
        this.ownership = Objects.requireNonNull(ownership, "ownership");
        this.owner = ownership.owner();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.queues = new SegmentQueues(definition, owner);
        String prefix = nodeName + "-" + name;
        this.pool = Executors.newFixedThreadPool(definition.threads(), Threads.daemon(prefix + "-segment-"));
        this.control = Executors.newSingleThreadExecutor(Threads.daemon(prefix + "-control-"));
        this.reader = new LogReader(this, prefix + "-reader");
        this.monitor = monitor;
    }

    /**
     * Starts the reader and follows the segments this node owns, after telling the ownership the highest epoch
     * stored for the processor: epochs that come from clocks would otherwise be fenced by the rows of a run whose
     * clock was ahead ({@link SegmentOwnership#startAbove}).
     */
    public void start() {
        reader.start();
        ownership.startAbove(name, highestStoredEpoch());
        registration = ownership.follow(name, definition.segments(),
                owned -> control.execute(() -> ownershipChanged(owned)));
    }

    /**
     * @return the highest epoch of the processor's token rows, 0 when there is none or the store cannot be read now
     *         (the node then starts from its own epochs, as before it read the store: its claims are refused until
     *         its clock passes the stored epochs, or another member's start raises the cluster's incarnation)
     */
    private long highestStoredEpoch() {
        try {
            return tokens.tokens(name).stream().mapToLong(SegmentToken::epoch).max().orElse(0);
        } catch (RuntimeException e) {
            log.warn("Processor '{}' could not read its stored epochs on {}; its segment epochs come from the clock "
                    + "alone", name, owner, e);
            return 0;
        }
    }

    /** @return the processor's name */
    public String name() {
        return name;
    }

    /** Wakes the reader after an append: it reads at once instead of at its next poll. */
    public void appended() {
        queues.appended();
    }

    // ---- ownership (control thread) ----

    /**
     * Per segment, completes when every worker of it this node stopped has left its handlers. Kept across ownership
     * changes: a segment that moves away and back, or is claimed again twice in quick succession, must still wait for
     * the oldest worker that may be inside a handler, not only for the last one (which may never have started).
     */
    private final Map<Integer, CompletableFuture<Void>> stopping = new HashMap<>();

    private void ownershipChanged(OwnedSegments owned) {
        SegmentQueues.Changes changes = queues.apply(owned,
                (segment, epoch) -> new SegmentWorker(this, segment, epoch));
        stopping.values().removeIf(CompletableFuture::isDone);
        for (SegmentWorker worker : changes.lost()) {
            worker.stop(false);
            CompletableFuture<Void> earlier = stopping.get(worker.segment);
            stopping.put(worker.segment, earlier == null ? worker.whenStopped()
                    : CompletableFuture.allOf(earlier, worker.whenStopped()));
            log.info("Processor '{}' segment {} no longer runs on {} (epoch {}), handled up to {}", name,
                    worker.segment, owner, worker.epoch, worker.handled());
        }
        List<SegmentWorker> now = new ArrayList<>();
        List<CompletableFuture<Void>> waitFor = new ArrayList<>();
        List<SegmentWorker> later = new ArrayList<>();
        for (SegmentWorker worker : changes.gained()) {
            CompletableFuture<Void> predecessors = stopping.get(worker.segment);
            if (predecessors == null || predecessors.isDone()) {
                now.add(worker);
            } else {
                later.add(worker);
                waitFor.add(predecessors);
            }
        }
        startTogether(now);
        if (!later.isEmpty()) {
            startAfterPredecessors(later, waitFor);
        }
    }

    /**
     * Segments this node keeps at a newer epoch (a cluster claims its segments again on every view change) start only
     * once their previous worker has left its handler: started at once from the stored token, the new worker would
     * handle the same aggregates as the old one at the same time, and the old one could apply an earlier event after
     * the new one applied a later one, leaving a read model that keeps an aggregate's latest state stale.
     */
    private void startAfterPredecessors(List<SegmentWorker> workers, List<CompletableFuture<Void>> predecessors) {
        log.debug("Processor '{}' segments {} wait on {} for their previous workers to stop", name,
                workers.stream().map(worker -> worker.segment).toList(), owner);
        CompletableFuture.allOf(predecessors.toArray(new CompletableFuture<?>[0])).whenComplete((ignored, failure) -> {
            try {
                control.execute(() -> startTogether(workers));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                log.debug("Processor '{}' closed before segments {} could start", name, workers);
            }
        });
    }

    /**
     * Claims every gained segment, then starts them together, lowest token first, so that they all join the one
     * reader. Started one by one as each claim returned, the first segment set the reader going while the others
     * were still being claimed (a database round trip each): a segment claimed once the reader was a few batches
     * ahead then read the whole log on its own to catch up, every column of every event again.
     */
    private void startTogether(List<SegmentWorker> gained) {
        List<SegmentWorker> claimed = new ArrayList<>();
        Map<SegmentWorker, TrackingToken> from = new HashMap<>();
        for (SegmentWorker worker : gained) {
            TrackingToken token = claimToken(worker, 1);
            if (token != null) {
                claimed.add(worker);
                from.put(worker, token);
            }
        }
        startAll(claimed, from::get);
    }

    /** Starts workers from their tokens, joining the reader together, lowest token first. */
    private void startAll(List<SegmentWorker> workers, Function<SegmentWorker, TrackingToken> from) {
        List<SegmentWorker> ordered = new ArrayList<>(workers);
        ordered.sort(Comparator.comparing(from));
        for (SegmentWorker worker : ordered) {
            worker.begin(from.apply(worker));
        }
        queues.tryAttachAll(ordered);
        ordered.forEach(SegmentWorker::schedule);
    }

    private void claim(SegmentWorker worker, int attempt) {
        TrackingToken token = claimToken(worker, attempt);
        if (token != null) {
            worker.start(token);
        }
    }

    /**
     * @return the segment's token, or null when it was fenced, is no longer this node's, or the claim failed (then
     *         it is tried again after a back-off)
     */
    private @Nullable TrackingToken claimToken(SegmentWorker worker, int attempt) {
        if (!queues.isCurrent(worker)) {
            return null;
        }
        try {
            tokens.initialize(name, definition.segments());
            TrackingToken token = tokens.claim(name, worker.segment, owner, worker.epoch);
            log.info("Processor '{}' segment {} now runs on {} (epoch {}) from {}", name, worker.segment, owner,
                    worker.epoch, token);
            return token;
        } catch (StaleSegmentOwnerException e) {
            worker.fenced(e);
            if (!owner.equals(e.storedOwner())) {
                // A cluster learns here the incarnation of a member it may never have heard from (dead, clock ahead).
                ownership.claimRefused(e);
            }
        } catch (RuntimeException e) {
            Duration delay = definition.errorPolicy().backoffAfter(Math.min(attempt, 8), ThreadLocalRandom.current());
            log.warn("Processor '{}' could not claim segment {} (attempt {}); trying again in {} ms", name,
                    worker.segment, attempt, delay.toMillis(), e);
            timer.schedule(() -> control.execute(() -> claim(worker, attempt + 1)), delay.toNanos(),
                    TimeUnit.NANOSECONDS);
        }
        return null;
    }

    // ---- commands ----

    /**
     * @param after the token to replay after
     * @return completes when the tokens moved
     */
    public CompletableFuture<Void> reset(TrackingToken after) {
        Objects.requireNonNull(after, "after");
        CompletableFuture<Void> done = new CompletableFuture<>();
        control.execute(() -> {
            try {
                doReset(after);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * Stops every segment, clears the read model and moves every token (in one transaction when the delivery is
     * transactional), then starts fresh workers from the new tokens; when the reset handlers or the token store
     * fail, the fresh workers start where the old ones stopped.
     */
    private void doReset(TrackingToken after) throws Throwable {
        List<SegmentWorker> current = queues.beginReset();
        List<SegmentWorker> fresh = new ArrayList<>();
        Map<Integer, TrackingToken> from = new HashMap<>();
        try {
            for (SegmentWorker worker : current) {
                worker.stop(false);
            }
            for (SegmentWorker worker : current) {
                worker.awaitStopped(STOP_TIMEOUT);
                from.put(worker.segment, worker.handled());
            }
            moveTokens(current, after);
            current.forEach(worker -> from.put(worker.segment, after));
            if (deadLetters != null) {
                deadLetters.clear(name);
            }
            log.info("Processor '{}' was reset on {} to replay the log after {}", name, owner, after);
        } finally {
            for (SegmentWorker worker : current) {
                fresh.add(new SegmentWorker(this, worker.segment, worker.epoch));
            }
            queues.endReset(fresh);
            startAll(fresh, worker -> from.getOrDefault(worker.segment, worker.handled()));
        }
    }

    private void moveTokens(List<SegmentWorker> segments, TrackingToken after) throws Throwable {
        if (transactions != null) {
            try (ProcessingTransaction transaction = transactions.begin()) {
                dispatcher.reset(transaction.resource());
                for (SegmentWorker worker : segments) {
                    transaction.updateToken(name, worker.segment, owner, worker.epoch, after);
                }
                transaction.commit();
            }
        } else {
            dispatcher.reset(null);
            List<Integer> moved = new ArrayList<>();
            for (SegmentWorker worker : segments) {
                try {
                    tokens.update(name, worker.segment, owner, worker.epoch, after);
                    moved.add(worker.segment);
                } catch (StaleSegmentOwnerException e) {
                    // Not atomic without a transaction: the read model is cleared, and a member that took this
                    // segment meanwhile goes on from its old token. Only another reset can make the model whole.
                    throw new IllegalStateException("Processor '" + name + "' was only partly reset: its reset "
                            + "handlers cleared the read model and segments " + moved + " moved to " + after
                            + ", but segment " + worker.segment + " was taken by another member meanwhile ("
                            + e.getMessage() + "), so it goes on from its old token and the read model lacks its "
                            + "events before that token; reset again once one member runs every segment (with "
                            + "transactional delivery a reset is all or nothing)", e);
                }
            }
        }
    }

    /** @return completes with what the retry did, on every segment this node runs */
    public CompletableFuture<DeadLetterRetry> retryDeadLetters() {
        if (deadLetters == null) {
            return CompletableFuture.completedFuture(new DeadLetterRetry(0, 0));
        }
        List<CompletableFuture<DeadLetterRetry>> parts = new ArrayList<>();
        for (SegmentWorker worker : queues.workers()) {
            parts.add(worker.retryDeadLetters());
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(ignored -> {
            int handled = 0;
            int remaining = 0;
            for (CompletableFuture<DeadLetterRetry> part : parts) {
                handled += part.join().handled();
                remaining += part.join().remaining();
            }
            return new DeadLetterRetry(handled, remaining);
        });
    }

    /** Restarts the stopped segments this node runs. */
    public void resume() {
        queues.workers().forEach(SegmentWorker::resume);
    }

    // ---- status ----

    /** @return the processor's status as this node sees it */
    public ProcessorStatus status() {
        Map<Integer, SegmentToken> stored = new HashMap<>();
        try {
            for (SegmentToken row : tokens.tokens(name)) {
                stored.put(row.segment(), row);
            }
        } catch (RuntimeException e) {
            log.debug("Processor '{}' status without stored tokens: the token store failed", name, e);
        }
        Map<Integer, Integer> letters = Map.of();
        if (deadLetters != null) {
            try {
                letters = deadLetters.counts(name);
            } catch (RuntimeException e) {
                log.debug("Processor '{}' status without dead letters: the store failed", name, e);
            }
        }
        return new ProcessorStatus(name, ProcessorStatus.Kind.TRACKING, queues.statuses(stored, letters), logStall(),
                reader.failure());
    }

    /**
     * @return the store's stall of the global log while the reader has read all it may: a reader still working
     *         through events before the stall is not held back yet
     */
    private @Nullable GlobalLogStall logStall() {
        if (monitor == null || !queues.readerAtHead()) {
            return null;
        }
        try {
            return monitor.lastStall().orElse(null);
        } catch (RuntimeException e) {
            log.debug("Processor '{}' status without the global log's stall: the event store failed", name, e);
            return null;
        }
    }

    // ---- lifecycle ----

    /**
     * Stops the reader and every segment, storing each segment's progress and letting go of it.
     *
     * @param timeout how long to wait for running handlers
     */
    public void close(Duration timeout) {
        List<SegmentWorker> current = queues.close();
        if (registration != null) {
            registration.close();
        }
        reader.stop(timeout);
        control.shutdown();
        for (SegmentWorker worker : current) {
            worker.stop(true);
        }
        for (SegmentWorker worker : current) {
            try {
                worker.awaitStopped(timeout);
            } catch (RuntimeException e) {
                log.warn("Processor '{}' segment {} did not stop within {}", name, worker.segment, timeout, e);
            }
        }
        pool.shutdown();
        try {
            control.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
            pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
