package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.HandlerTransactionAbortedException;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.StaleSegmentOwnerException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A segment worker's turns with a transactional delivery: a turn's handlers write through one transaction that also
 * stores the token past the turn's items, so a superseded owner applies nothing. When a handler fails, the turn rolls
 * back, the events before the failing one are redone in a transaction of their own, and the failing one is retried
 * alone; when a handler's failed statement aborts the transaction without the handler saying so, the turn's events
 * are handled one per transaction until the culprit is found.
 *
 * <p>The error policy, dead letters and the worker's phase stay the worker's: this class decides only how a turn's
 * transaction goes and what the next turn takes. Used by the worker's loop only (one turn at a time). Internal: not
 * part of Gyre's API.
 */
final class TransactionalTurns {

    private static final Logger log = LoggerFactory.getLogger(TransactionalTurns.class);

    private final SegmentWorker worker;
    private final TrackingRuntime runtime;
    private final ProcessingTransactions transactions;
    private final FailingEvent failing;
    private final SegmentDeadLetters letters;
    private final TokenCheckpoint checkpoint;
    /** The turn after a failure redoes only the events before the failing one. */
    private int redoLimit;
    /**
     * Events still to handle one per transaction, after a handler's failed statement aborted a shared transaction
     * without the handler saying so ({@link HandlerTransactionAbortedException}); handled alone, the event whose
     * handler aborts its transaction is found and meets the error policy.
     */
    private int isolating;
    /** When the failing event may be tried again, once the events before it are redone. */
    private long retryNotBefore;

    TransactionalTurns(SegmentWorker worker, TrackingRuntime runtime, ProcessingTransactions transactions,
                       FailingEvent failing, SegmentDeadLetters letters, TokenCheckpoint checkpoint) {
        this.worker = worker;
        this.runtime = runtime;
        this.transactions = transactions;
        this.failing = failing;
        this.letters = letters;
        this.checkpoint = checkpoint;
    }

    /** @return the most events the next turn takes: a redo's, one while isolating, else a batch */
    int limit(int batchSize) {
        return redoLimit > 0 ? redoLimit : isolating > 0 ? 1 : batchSize;
    }

    /** Handles a turn's items in one transaction that also stores the token past them. */
    void handle(List<Item> chunk) {
        boolean redo = redoLimit > 0;
        redoLimit = 0;
        ProcessingTransaction transaction;
        try {
            transaction = transactions.begin();
        } catch (RuntimeException e) {
            worker.infrastructureFailed("begin a transaction", e, chunk);
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
                    if (!worker.deadLetterBehind(tracked, chunk, transaction)) {
                        return;
                    }
                    eventsBefore++;
                    continue;
                }
                boolean givenUp = eventsBefore == 0 && failing.finalFailure() != null
                        && failing.is(tracked.event().eventId());
                Throwable error = givenUp ? failing.finalFailure() : HandlerCalls.invoke(runtime.dispatcher, tracked,
                        worker.segment, transaction.resource());
                if (error != null) {
                    transaction.close();
                    rolledBack(tracked, error, givenUp, i, eventsBefore, chunk);
                    return;
                }
                eventsBefore++;
            }
            TrackingToken last = chunk.get(chunk.size() - 1).token();
            transaction.updateToken(runtime.name, worker.segment, runtime.owner, worker.epoch, last);
            transaction.commit();
        } catch (StaleSegmentOwnerException e) {
            worker.fenced(e);
            return;
        } catch (HandlerTransactionAbortedException e) {
            handlersAborted(e, chunk);
            return;
        } catch (RuntimeException e) {
            worker.infrastructureFailed("commit a transaction", e, chunk);
            return;
        }
        if (isolating > 0 && chunk.stream().anyMatch(Item.Event.class::isInstance)) {
            isolating--;
        }
        chunk.forEach(worker::succeeded);
        checkpoint.stored(checkpoint.handled());
        if (redo && retryNotBefore > 0) {
            long wait = retryNotBefore - System.nanoTime();
            retryNotBefore = 0;
            if (wait > 0) {
                worker.retryAfter(wait);
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
            runtime.queues.requeueFront(worker, chunk);
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
        if (worker.failed(tracked, error, used, chunk)) {
            // Dead-lettered: the rest of the turn goes on next turn, in a fresh transaction.
            runtime.queues.requeueFront(worker, chunk.subList(index + 1, chunk.size()));
            worker.commit(true);
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
        runtime.queues.requeueFront(worker, chunk);
        isolating = events;
        log.warn("Processor '{}' segment {}: a handler's failed statement aborted the transaction of {} events; "
                + "handling them one per transaction to find it", runtime.name, worker.segment, events);
    }
}
