package io.gyre.processing.internal;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.SegmentFailure;
import io.gyre.processing.SegmentState;
import io.gyre.processing.StaleSegmentOwnerException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a tracking processor that this node holds at one epoch: its queue, its phase, and the loop that
 * handles its events. The loop runs as a task on the processor's pool, one at a time per worker, taking up to a
 * batch of events per turn, and never sleeps on the pool: a back-off is a timer that schedules the next turn.
 *
 * <p>The worker keeps the phase (claiming, running, retrying, stopped, fenced), the error policy and the at-least-once
 * turn; the rest is delegated, one concept each: {@link SegmentCommands} (what other threads ask of the loop, and its
 * end), {@link TokenCheckpoint} (the handled and stored tokens, and when a store may wait), {@link FailingEvent} (the
 * event the handlers fail on, and its attempts), {@link SegmentDeadLetters} (letters, the aggregates parked behind
 * them, and their retry) and {@link TransactionalTurns} (a turn in one transaction with its token, and the redo after
 * a rollback).
 *
 * <p>Progress: at least once, the token is stored after handlers returned: when the segment has nothing more to do
 * (its queue has run dry and the reader has found the end of the log), and while catching up every few batches or
 * every second, whichever comes first (a node that dies hands its successor at most that much to handle again); a
 * turn that only passed other segments' events stores it at most once a second (and always on stop), since losing
 * that costs only a re-read. Transactionally, a turn's handlers write through one transaction that also stores the
 * token.
 *
 * <p>Order per aggregate with dead letters: once an aggregate has a dead letter in this segment, its later events
 * are put behind it until a retry handles them all. Internal: not part of Gyre's API.
 */
final class SegmentWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SegmentWorker.class);
    private static final Duration INFRASTRUCTURE_BACKOFF = Duration.ofSeconds(1);

    /** What the worker is doing; the public state is derived from it. */
    enum Phase { CLAIMING, RUNNING, RETRYING, STOPPED, FENCED }

    final int segment;
    final long epoch;
    private final TrackingRuntime runtime;

    /** What the reader hands this worker; changed under the lock of runtime.queues only. */
    final SegmentQueue queue = new SegmentQueue();

    private volatile Phase phase = Phase.CLAIMING;
    private final TokenCheckpoint checkpoint = new TokenCheckpoint();
    private volatile boolean stopping;
    private volatile boolean releaseOnStop;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final SegmentCommands commands;
    /** True while a timer will run a turn for a store that {@link #commit} put off. */
    private volatile boolean commitTimerArmed;

    // The loop's own (one turn at a time).
    private final FailingEvent failing;
    private final SegmentDeadLetters letters;
    private long notBefore;
    /** Handles the turns of a transactional delivery, null at least once. */
    private final @Nullable TransactionalTurns transactional;

    SegmentWorker(TrackingRuntime runtime, int segment, long epoch) {
        this.runtime = runtime;
        this.segment = segment;
        this.epoch = epoch;
        this.commands = new SegmentCommands(runtime.name, segment, runtime.owner);
        this.failing = new FailingEvent(runtime.clock);
        this.letters = new SegmentDeadLetters(runtime, segment, epoch, checkpoint);
        this.transactional = runtime.transactions == null ? null
                : new TransactionalTurns(this, runtime, runtime.transactions, failing, letters, checkpoint);
    }

    // ---- read by the runtime ----

    TrackingToken handled() {
        return checkpoint.handled();
    }

    @Nullable Instant handledTimestamp() {
        return checkpoint.handledTimestamp();
    }

    @Nullable SegmentFailure failure() {
        return failing.status();
    }

    /** @return true when the worker handles events (not claiming, stopped or fenced) */
    boolean runnable() {
        return (phase == Phase.RUNNING || phase == Phase.RETRYING) && !stopping;
    }

    /** @return true when the token store gave this worker its segment */
    boolean claimed() {
        return phase != Phase.CLAIMING && phase != Phase.FENCED;
    }

    /** @return the public state; {@link SegmentState#CATCHING_UP} for a running worker, refined by the runtime */
    SegmentState state() {
        return switch (phase) {
            case CLAIMING -> SegmentState.CLAIMING;
            case RUNNING -> SegmentState.CATCHING_UP;
            case RETRYING -> SegmentState.RETRYING;
            case STOPPED -> SegmentState.STOPPED;
            case FENCED -> SegmentState.FENCED;
        };
    }

    // ---- lifecycle (control thread) ----

    /** Starts handling from a claimed token. */
    void start(TrackingToken token) {
        begin(token);
        runtime.queues.tryAttach(this);
        schedule();
    }

    /**
     * Makes the worker ready to handle from a claimed token, without joining the reader or running yet: the caller
     * then does both, for several workers together ({@link SegmentQueues#tryAttachAll}).
     */
    void begin(TrackingToken token) {
        checkpoint.startAt(token);
        runtime.queues.assign(this, token);
        letters.load();
        phase = Phase.RUNNING;
    }

    /**
     * The token store refused this worker's claim or update: a newer owner holds the segment. When that owner is this
     * node itself (it claimed the segment again at a newer epoch, as a cluster does on each view change), this worker
     * is only its own predecessor, and the refusal is routine.
     */
    void fenced(StaleSegmentOwnerException e) {
        phase = Phase.FENCED;
        runtime.queues.detachAndClear(this);
        if (runtime.owner.equals(e.storedOwner())) {
            log.debug("Processor '{}' segment {} at epoch {} on {} gave way to this node's newer claim: {}",
                    runtime.name, segment, epoch, runtime.owner, e.getMessage());
        } else {
            log.warn("Processor '{}' segment {} is fenced on {}: {}", runtime.name, segment, runtime.owner,
                    e.getMessage());
        }
    }

    /**
     * Asks the loop to stop after its current turn, storing its progress.
     *
     * @param release whether to let go of the segment in the token store (a graceful stop of the node)
     */
    void stop(boolean release) {
        releaseOnStop = release;
        stopping = true;
        schedule();
    }

    /** @return true when the worker's loop has ended: none of its handlers runs or will run */
    boolean hasStopped() {
        return commands.hasEnded();
    }

    /** @return completes when the worker's loop has ended, after its last handler returned */
    CompletableFuture<Void> whenStopped() {
        return commands.whenEnded();
    }

    /** Waits for {@link #stop}. */
    void awaitStopped(Duration timeout) {
        commands.awaitEnded(timeout);
    }

    /**
     * @return completes with what the retry did on this segment, or with the failure that cut it short; fails when
     *         the worker stops before it runs the retry
     */
    CompletableFuture<DeadLetterRetry> retryDeadLetters() {
        CompletableFuture<DeadLetterRetry> result = commands.addRetry(this::retryLetters);
        schedule();
        return result;
    }

    /** Restarts a stopped segment at its failing event. */
    void resume() {
        commands.add(() -> {
            if (phase == Phase.STOPPED) {
                failing.restart();
                notBefore = 0;
                runtime.queues.detachAndClear(this);
                phase = Phase.RUNNING;
                log.info("Processor '{}' segment {} resumes at {}", runtime.name, segment, checkpoint.handled());
            }
        });
        schedule();
    }

    /** Runs a turn of the loop on the pool, unless one is queued or running. */
    void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                runtime.pool.execute(this);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                scheduled.set(false);
                commands.ended();
            }
        }
    }

    private void scheduleAfter(long nanos) {
        runtime.timer.schedule(this::schedule, Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    // ---- the loop (one turn at a time, on the pool) ----

    @Override
    public void run() {
        try {
            turn();
        } catch (Throwable e) {
            phase = Phase.STOPPED;
            runtime.queues.detachAndClear(this);
            log.error("Processor '{}' segment {} stopped on an unexpected failure", runtime.name, segment, e);
        } finally {
            scheduled.set(false);
            if (moreToDo()) {
                schedule();
            }
        }
    }

    private boolean moreToDo() {
        if (commands.hasEnded()) {
            return false;
        }
        if (stopping || commands.pending()) {
            return true;
        }
        if (!runnable() || System.nanoTime() < notBefore) {
            return false;
        }
        return runtime.queues.hasQueued(this) || !queue.attached();
    }

    private void turn() {
        if (stopping) {
            finish();
            return;
        }
        commands.runPending();
        if (!runnable()) {
            return;
        }
        long now = System.nanoTime();
        if (now < notBefore) {
            scheduleAfter(notBefore - now);
            return;
        }
        int limit = transactional != null ? transactional.limit(runtime.definition.batchSize())
                : runtime.definition.batchSize();
        List<Item> chunk = runtime.queues.take(this, limit);
        if (chunk.isEmpty()) {
            if (!queue.attached()) {
                catchUpAlone();
            } else {
                commit(false);
            }
            return;
        }
        if (transactional != null) {
            transactional.handle(chunk);
        } else {
            handleAtLeastOnce(chunk);
        }
    }

    /** Reads the log on its own from its last token, for a worker the reader does not serve. */
    private void catchUpAlone() {
        TrackingToken from = runtime.queues.assignedOf(this);
        List<TrackedEvent> batch;
        try {
            batch = runtime.globalLog.readAll(from, runtime.definition.batchSize());
        } catch (RuntimeException e) {
            log.warn("Processor '{}' segment {} could not read the log after {}; trying again in {}", runtime.name,
                    segment, from, INFRASTRUCTURE_BACKOFF, e);
            notBefore = System.nanoTime() + INFRASTRUCTURE_BACKOFF.toNanos();
            scheduleAfter(INFRASTRUCTURE_BACKOFF.toNanos());
            return;
        }
        runtime.queues.acceptOwnRead(this, from, batch);
    }

    private void handleAtLeastOnce(List<Item> chunk) {
        for (int i = 0; i < chunk.size(); i++) {
            Item item = chunk.get(i);
            if (!(item instanceof Item.Event event)) {
                advance(item);
                continue;
            }
            TrackedEvent tracked = event.tracked();
            if (letters.isParked(tracked)) {
                if (!deadLetterBehind(tracked, chunk.subList(i, chunk.size()), null)) {
                    return;
                }
                advance(item);
                continue;
            }
            Throwable error = invoke(tracked, null);
            if (error == null) {
                succeeded(item);
            } else if (!failed(tracked, error, failing.countAttempt(tracked, error), chunk.subList(i, chunk.size()))) {
                return;
            }
        }
        commit(false);
    }

    /**
     * Takes the worker out of the reader's hands and waits before its next turn, which retries a failing event.
     *
     * @param nanos how long to wait
     */
    void retryAfter(long nanos) {
        runtime.queues.detach(this);
        phase = Phase.RETRYING;
        notBefore = System.nanoTime() + nanos;
        scheduleAfter(nanos);
    }

    /**
     * Applies the error policy to a failed event.
     *
     * @param used how many calls with it have failed
     * @param rest the failing event's item and those after it in the turn
     * @return true when the event was dead-lettered and the turn may go on
     */
    boolean failed(TrackedEvent tracked, Throwable error, int used, List<Item> rest) {
        ErrorPolicy policy = runtime.definition.errorPolicy();
        StoredEvent event = tracked.event();
        if (used < policy.attempts() && HandlerCalls.retryable(error)) {
            runtime.queues.requeueFront(this, rest);
            runtime.queues.detach(this);
            commit(true);
            if (phase == Phase.FENCED) {
                // Storing the token found a newer owner: the fence stands, and a superseded owner retries nothing.
                return false;
            }
            Duration backoff = policy.backoffAfter(used, ThreadLocalRandom.current());
            phase = Phase.RETRYING;
            notBefore = System.nanoTime() + backoff.toNanos();
            scheduleAfter(backoff.toNanos());
            log.warn("Processor '{}' segment {}: a handler failed on event {} ({} {} #{}), attempt {} of {}; "
                    + "retrying in {} ms", runtime.name, segment, event.eventId(), event.type(), event.stream(),
                    event.sequence(), used, policy.attempts(), backoff.toMillis(), error);
            return false;
        }
        if (policy.then() == ErrorPolicy.Action.STOP_SEGMENT || runtime.deadLetters == null) {
            runtime.queues.detachAndClear(this);
            commit(true);
            if (phase == Phase.FENCED) {
                // Fenced, not stopped: a resume must not restart a superseded owner.
                return false;
            }
            phase = Phase.STOPPED;
            log.error("Processor '{}' segment {} stopped at event {} ({} {} #{}, at {}) after {} attempts; resume it "
                    + "with node.processors().resume(\"{}\")", runtime.name, segment, event.eventId(), event.type(),
                    event.stream(), event.sequence(), tracked.token(), used, runtime.name, error);
            return false;
        }
        Instant now = runtime.clock.instant();
        SegmentFailure last = failing.status();
        try {
            letters.writeLetter(new DeadLetter(runtime.name, segment, event, tracked.token(),
                    HandlerCalls.describe(error), used, last == null ? now : last.since(), now), tracked.token());
        } catch (StaleSegmentOwnerException e) {
            fenced(e);
            return false;
        } catch (RuntimeException e) {
            infrastructureFailed("add a dead letter", e, rest);
            return false;
        }
        log.warn("Processor '{}' segment {} dead-lettered event {} ({} {} #{}) after {} attempts; later events of {} "
                + "wait behind it", runtime.name, segment, event.eventId(), event.type(), event.stream(),
                event.sequence(), used, event.stream(), error);
        letters.park(event.stream());
        clearFailure();
        if (phase == Phase.RETRYING) {
            phase = Phase.RUNNING;
        }
        advance(new Item.Event(tracked));
        return true;
    }

    /**
     * Puts an event of an aggregate that already has a dead letter behind it.
     *
     * @param open the turn's transaction, which will store the token past the event, when the delivery is
     *             transactional; null at least once
     */
    boolean deadLetterBehind(TrackedEvent tracked, List<Item> rest, @Nullable ProcessingTransaction open) {
        try {
            letters.putBehind(tracked, open);
            return true;
        } catch (StaleSegmentOwnerException e) {
            fenced(e);
            return false;
        } catch (RuntimeException e) {
            infrastructureFailed("add a dead letter", e, rest);
            return false;
        }
    }

    void infrastructureFailed(String what, RuntimeException e, List<Item> rest) {
        runtime.queues.requeueFront(this, rest);
        notBefore = System.nanoTime() + INFRASTRUCTURE_BACKOFF.toNanos();
        scheduleAfter(INFRASTRUCTURE_BACKOFF.toNanos());
        log.warn("Processor '{}' segment {} could not {}; trying again in {}", runtime.name, segment, what,
                INFRASTRUCTURE_BACKOFF, e);
    }

    private @Nullable Throwable invoke(TrackedEvent tracked, @Nullable Object resource) {
        return HandlerCalls.invoke(runtime.dispatcher, tracked, segment, resource);
    }

    void succeeded(Item item) {
        if (item instanceof Item.Event event && failing.is(event.tracked().event().eventId())) {
            // Read before clearing: the log line named event null after 0 failed attempts.
            int failedAttempts = failing.attempts();
            clearFailure();
            if (phase == Phase.RETRYING) {
                phase = Phase.RUNNING;
                log.info("Processor '{}' segment {} handled event {} after {} failed attempts", runtime.name, segment,
                        event.tracked().event().eventId(), failedAttempts);
            }
        }
        if (phase == Phase.RETRYING && item instanceof Item.Event) {
            phase = Phase.RUNNING;
        }
        if (item instanceof Item.Event) {
            checkpoint.handledEvent();
        }
        advance(item);
    }

    private void clearFailure() {
        failing.clear();
        notBefore = 0;
    }

    private void advance(Item item) {
        checkpoint.advance(item);
    }

    /**
     * Stores the handled token when forced; after handled events, once the segment has nothing more to do (its queue
     * has run dry and the reader has found the end of the log), or a few batches or a second after the last store;
     * and when only other segments' events passed, at most once a second.
     *
     * <p>Why a store waits is {@link TokenCheckpoint}'s to say. A timer makes sure a store put off happens within a
     * second even when no more events come (the reader held back by another segment's full queue), and
     * {@link SegmentQueues#caughtUp} gives every worker a turn when the reader finds the end.
     */
    void commit(boolean force) {
        TrackingToken token = checkpoint.handled();
        if (checkpoint.upToDate() || phase == Phase.FENCED) {
            return;
        }
        long now = System.nanoTime();
        if (!force && checkpoint.mayWait(now, runtime.definition.batchSize(), () -> runtime.queues.moreAhead(this))) {
            // Also when only other segments' events passed: without a timer, a segment whose last turn came within
            // a second of its last store kept its stored token behind for good once the log went quiet (40 against
            // 41 for 30 s in TrackingProcessorTest, so a restart or a status read saw it behind).
            armCommitTimer(checkpoint.untilDue(now));
            return;
        }
        try {
            runtime.tokens.update(runtime.name, segment, runtime.owner, epoch, token);
            checkpoint.stored(token);
        } catch (StaleSegmentOwnerException e) {
            fenced(e);
        } catch (RuntimeException e) {
            log.warn("Processor '{}' segment {} could not store its token {}; it will try again", runtime.name,
                    segment, token, e);
            scheduleAfter(INFRASTRUCTURE_BACKOFF.toNanos());
        }
    }

    /** Runs a turn when a store skipped now falls due, unless one is already on its way. */
    private void armCommitTimer(long nanos) {
        if (!commitTimerArmed) {
            commitTimerArmed = true;
            runtime.timer.schedule(() -> {
                commitTimerArmed = false;
                if (!commands.hasEnded() && !stopping) {
                    schedule();
                }
            }, Math.max(0, nanos), TimeUnit.NANOSECONDS);
        }
    }

    private void finish() {
        try {
            if (phase != Phase.FENCED && phase != Phase.CLAIMING) {
                commit(true);
                if (releaseOnStop && phase != Phase.FENCED) {
                    runtime.tokens.release(runtime.name, segment, runtime.owner, epoch);
                }
            }
        } catch (RuntimeException e) {
            log.warn("Processor '{}' segment {} could not store its progress {} while stopping", runtime.name, segment,
                    checkpoint.handled(), e);
        } finally {
            commands.ended();
        }
    }

    // ---- dead letters ----

    /**
     * Handles the segment's dead letters again ({@link SegmentDeadLetters#retry}), unless the worker does not hold
     * the segment: then they are all left to the node that does.
     */
    private DeadLetterRetry retryLetters() {
        DeadLetterStore store = runtime.deadLetters;
        if (store == null) {
            return new DeadLetterRetry(0, 0);
        }
        List<DeadLetter> stored = store.list(runtime.name, segment);
        if (phase == Phase.CLAIMING || phase == Phase.FENCED) {
            return new DeadLetterRetry(0, stored.size());
        }
        return letters.retry(stored, this::fenced);
    }

    @Override
    public String toString() {
        return "segment " + segment + " of '" + runtime.name + "' at epoch " + epoch;
    }
}
