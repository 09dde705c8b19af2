package io.gyre.processing.internal;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.HandlerTransactionAbortedException;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.SegmentFailure;
import io.gyre.processing.SegmentState;
import io.gyre.processing.StaleSegmentOwnerException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a tracking processor that this node holds at one epoch: its queue, its progress, and the loop that
 * handles its events. The loop runs as a task on the processor's pool, one at a time per worker, taking up to a
 * batch of events per turn, and never sleeps on the pool: a back-off is a timer that schedules the next turn.
 *
 * <p>Progress ({@link TokenCheckpoint}): {@code handled} is the token up to which the segment is done (handled,
 * dead-lettered, or not its event); {@code committed} the token last stored. At least once, the token is stored after
 * handlers returned: when the segment has nothing more to do (its queue has run dry and the reader has found the end of
 * the log), and while catching up every few batches or every second, whichever comes first (a node that dies hands its
 * successor at most that much to handle again); a turn that only passed other segments' events stores it at most once a
 * second (and always on stop), since losing that costs only a re-read. Transactionally, a turn's handlers write through
 * one transaction that also stores the token; when a handler fails, the turn rolls back, the events before the failing
 * one are redone in a transaction of their own, and the failing one is retried alone.
 *
 * <p>Order per aggregate with dead letters: once an aggregate has a dead letter in this segment, its later events
 * are put behind it until a retry handles them all; how letters are written and fenced is
 * {@link SegmentDeadLetters}'s. Internal: not part of Gyre's API.
 */
final class SegmentWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SegmentWorker.class);
    private static final Duration INFRASTRUCTURE_BACKOFF = Duration.ofSeconds(1);

    /** What the worker is doing; the public state is derived from it. */
    enum Phase { CLAIMING, RUNNING, RETRYING, STOPPED, FENCED }

    final int segment;
    final long epoch;
    private final TrackingRuntime runtime;

    // Guarded by the lock of runtime.queues.
    final ArrayDeque<Item> queue = new ArrayDeque<>();
    int queuedEvents;
    /** The token of the last item queued (or, detached, the token to read on from). */
    TrackingToken assigned = TrackingToken.START;
    /** Written under the lock of runtime.queues, read anywhere. */
    volatile boolean attached;

    private volatile Phase phase = Phase.CLAIMING;
    private final TokenCheckpoint checkpoint = new TokenCheckpoint();
    private volatile boolean busy;
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
    /** Transactional: the turn after a failure redoes only the events before the failing one. */
    private int redoLimit;
    /**
     * Transactional: events still to handle one per transaction, after a handler's failed statement aborted a shared
     * transaction without the handler saying so ({@link HandlerTransactionAbortedException}); handled alone, the
     * event whose handler aborts its transaction is found and meets the error policy.
     */
    private int isolating;

    SegmentWorker(TrackingRuntime runtime, int segment, long epoch) {
        this.runtime = runtime;
        this.segment = segment;
        this.epoch = epoch;
        this.commands = new SegmentCommands(runtime.name, segment, runtime.owner);
        this.failing = new FailingEvent(runtime.clock);
        this.letters = new SegmentDeadLetters(runtime, segment, epoch, checkpoint);
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

    boolean busy() {
        return busy || scheduled.get();
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
        busy = true;
        try {
            turn();
        } catch (Throwable e) {
            phase = Phase.STOPPED;
            runtime.queues.detachAndClear(this);
            log.error("Processor '{}' segment {} stopped on an unexpected failure", runtime.name, segment, e);
        } finally {
            busy = false;
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
        return runtime.queues.hasQueued(this) || !attached;
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
        int limit = redoLimit > 0 ? redoLimit : isolating > 0 ? 1 : runtime.definition.batchSize();
        List<Item> chunk = runtime.queues.take(this, limit);
        if (chunk.isEmpty()) {
            if (!attached) {
                catchUpAlone();
            } else {
                commit(false);
            }
            return;
        }
        if (runtime.transactions != null) {
            handleInTransaction(chunk);
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

    private void handleInTransaction(List<Item> chunk) {
        boolean redo = redoLimit > 0;
        redoLimit = 0;
        ProcessingTransaction transaction;
        try {
            transaction = runtime.transactions.begin();
        } catch (RuntimeException e) {
            infrastructureFailed("begin a transaction", e, chunk);
            return;
        }
        try (transaction) {
            // Events (not items: progress marks of other segments' events lie between them) before the current one.
            int eventsBefore = 0;
            for (int i = 0; i < chunk.size(); i++) {
                if (!(chunk.get(i) instanceof Item.Event event)) {
                    continue;
                }
                TrackedEvent tracked = event.tracked();
                if (letters.isParked(tracked)) {
                    if (!deadLetterBehind(tracked, chunk, transaction)) {
                        return;
                    }
                    eventsBefore++;
                    continue;
                }
                boolean givenUp = eventsBefore == 0 && failing.finalFailure() != null
                        && failing.is(tracked.event().eventId());
                Throwable error = givenUp ? failing.finalFailure() : invoke(tracked, transaction.resource());
                if (error != null) {
                    transaction.close();
                    rolledBack(tracked, error, givenUp, i, eventsBefore, chunk);
                    return;
                }
                eventsBefore++;
            }
            TrackingToken last = chunk.get(chunk.size() - 1).token();
            transaction.updateToken(runtime.name, segment, runtime.owner, epoch, last);
            transaction.commit();
        } catch (StaleSegmentOwnerException e) {
            fenced(e);
            return;
        } catch (HandlerTransactionAbortedException e) {
            handlersAborted(e, chunk);
            return;
        } catch (RuntimeException e) {
            infrastructureFailed("commit a transaction", e, chunk);
            return;
        }
        if (isolating > 0 && chunk.stream().anyMatch(Item.Event.class::isInstance)) {
            isolating--;
        }
        chunk.forEach(this::succeeded);
        checkpoint.stored(checkpoint.handled());
        if (redo && retryNotBefore > 0) {
            long wait = retryNotBefore - System.nanoTime();
            retryNotBefore = 0;
            if (wait > 0) {
                runtime.queues.detach(this);
                phase = Phase.RETRYING;
                notBefore = System.nanoTime() + wait;
                scheduleAfter(wait);
            }
        }
    }

    /**
     * A handler failed in a transaction, which is rolled back. When events came before the failing one, they are
     * redone in a transaction of their own next turn, at once, and the failing one then waits for its back-off (or
     * meets the policy, its attempts used up); when it came first, the policy applies now.
     *
     * <p>The redo is bounded by the number of events before the failing one, the unit {@code take} counts; bounding
     * it by the failing item's index instead (progress marks included) let the redo take the failing event again,
     * fail it again before its own turn, and so on for ever, without ever applying the policy.
     *
     * @param index        the failing event's place in the chunk
     * @param eventsBefore the events before it in the chunk
     */
    private void rolledBack(TrackedEvent tracked, Throwable error, boolean givenUp, int index, int eventsBefore,
                            List<Item> chunk) {
        int used = givenUp ? failing.attempts() : failing.countAttempt(tracked, error);
        if (eventsBefore > 0) {
            runtime.queues.requeueFront(this, chunk);
            redoLimit = eventsBefore;
            if (used < runtime.definition.errorPolicy().attempts() && HandlerCalls.retryable(error)) {
                retryNotBefore = System.nanoTime()
                        + runtime.definition.errorPolicy().backoffAfter(used, ThreadLocalRandom.current()).toNanos();
            } else {
                failing.giveUp(error);
            }
            return;
        }
        failing.keepTrying();
        // Only progress marks come before the failing event: a retry gets them back with it; a dead letter moves the
        // segment past the failing event, and so past them.
        if (failed(tracked, error, used, chunk)) {
            // Dead-lettered: the rest of the turn goes on next turn, in a fresh transaction.
            runtime.queues.requeueFront(this, chunk.subList(index + 1, chunk.size()));
            commit(true);
        }
    }

    /**
     * A handler's failed statement aborted the transaction, though every handler returned. Alone in its transaction,
     * the event is the culprit and meets the error policy like a handler that threw; with others, the batch is
     * handled again one event per transaction to find it.
     */
    private void handlersAborted(HandlerTransactionAbortedException e, List<Item> chunk) {
        int index = -1;
        int events = 0;
        for (int i = 0; i < chunk.size(); i++) {
            if (chunk.get(i) instanceof Item.Event) {
                index = index < 0 ? i : index;
                events++;
            }
        }
        if (events == 1) {
            isolating = 0;
            rolledBack(((Item.Event) chunk.get(index)).tracked(), e, false, index, 0, chunk);
            return;
        }
        runtime.queues.requeueFront(this, chunk);
        isolating = events;
        log.warn("Processor '{}' segment {}: a handler's failed statement aborted the transaction of {} events; "
                + "handling them one per transaction to find it", runtime.name, segment, events);
    }

    /** Transactional: when the failing event may be tried again, once the events before it are redone. */
    private long retryNotBefore;

    /**
     * Applies the error policy to a failed event.
     *
     * @param used how many calls with it have failed
     * @param rest the failing event's item and those after it in the turn
     * @return true when the event was dead-lettered and the turn may go on
     */
    private boolean failed(TrackedEvent tracked, Throwable error, int used, List<Item> rest) {
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
    private boolean deadLetterBehind(TrackedEvent tracked, List<Item> rest, @Nullable ProcessingTransaction open) {
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

    private void infrastructureFailed(String what, RuntimeException e, List<Item> rest) {
        runtime.queues.requeueFront(this, rest);
        notBefore = System.nanoTime() + INFRASTRUCTURE_BACKOFF.toNanos();
        scheduleAfter(INFRASTRUCTURE_BACKOFF.toNanos());
        log.warn("Processor '{}' segment {} could not {}; trying again in {}", runtime.name, segment, what,
                INFRASTRUCTURE_BACKOFF, e);
    }

    private @Nullable Throwable invoke(TrackedEvent tracked, @Nullable Object resource) {
        return HandlerCalls.invoke(runtime.dispatcher, tracked, segment, resource);
    }

    private void succeeded(Item item) {
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
    private void commit(boolean force) {
        TrackingToken token = checkpoint.handled();
        if (checkpoint.upToDate() || phase == Phase.FENCED) {
            return;
        }
        long now = System.nanoTime();
        if (!force && checkpoint.mayWait(now, runtime.definition.batchSize(), () -> runtime.queues.moreAhead(this))) {
            if (checkpoint.hasUnstoredEvents()) {
                armCommitTimer(checkpoint.untilDue(now));
            }
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
