package io.gyre.processing.internal;

import io.gyre.GyreTransientException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.StaleSegmentOwnerException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead letters of one segment worker: which aggregates have one (their later events are put behind it,
 * {@code parked}, to keep each aggregate's order), how a letter is written, and the retry that handles them again.
 *
 * <p>Dead letters are fenced like tokens when the dead-letter store is also the token store's transactions (a
 * {@code JdbcProcessingStore}, see {@link #letterTransactions}): a letter is added in the transaction that moves the
 * token past its event, and a retried letter is removed in a fenced transaction (transactionally, the one of its
 * handler's writes), so a superseded owner leaves no letter and, transactionally, applies none. With letters in a
 * store apart (or in memory) they are written on their own, unfenced.
 *
 * <p>Used by the worker's loop only (one turn at a time). Internal: not part of Gyre's API.
 */
final class SegmentDeadLetters {

    private static final Logger log = LoggerFactory.getLogger(SegmentDeadLetters.class);

    private final TrackingRuntime runtime;
    private final int segment;
    private final long epoch;
    private final TokenCheckpoint checkpoint;
    /** The aggregates with a dead letter in this segment. */
    private final Set<StreamId> parked = new HashSet<>();

    /**
     * @param checkpoint the worker's progress, which a letter written with the token past its event moves
     */
    SegmentDeadLetters(TrackingRuntime runtime, int segment, long epoch, TokenCheckpoint checkpoint) {
        this.runtime = runtime;
        this.segment = segment;
        this.epoch = epoch;
        this.checkpoint = checkpoint;
    }

    /** Reads which aggregates already have a dead letter in this segment, when the worker starts. */
    void load() {
        DeadLetterStore letters = runtime.deadLetters;
        if (letters != null) {
            try {
                for (DeadLetter letter : letters.list(runtime.name, segment)) {
                    parked.add(letter.event().stream());
                }
            } catch (RuntimeException e) {
                log.warn("Processor '{}' segment {} could not read its dead letters; their aggregates' later events "
                        + "are not held back until it can", runtime.name, segment, e);
            }
        }
    }

    /**
     * @return true when the event's aggregate has a dead letter in this segment; without any, no {@link StreamId} is
     *         made (and checked) per event, which was a sixth of a segment's time while catching up
     */
    boolean isParked(TrackedEvent tracked) {
        return !parked.isEmpty() && parked.contains(tracked.event().stream());
    }

    /** Puts the aggregate's later events behind its new dead letter. */
    void park(StreamId stream) {
        parked.add(stream);
    }

    /**
     * Puts an event of an aggregate that already has a dead letter behind it.
     *
     * @param open the turn's transaction, which will store the token past the event, when the delivery is
     *             transactional; null at least once
     * @throws StaleSegmentOwnerException when the token store has given the segment to a newer owner
     */
    void putBehind(TrackedEvent tracked, @Nullable ProcessingTransaction open) {
        Instant now = runtime.clock.instant();
        DeadLetter letter = new DeadLetter(runtime.name, segment, tracked.event(), tracked.token(),
                "waits behind an earlier dead letter of " + tracked.event().stream(), 0, now, now);
        if (open != null && letterTransactions() != null) {
            open.addDeadLetter(letter);
        } else {
            writeLetter(letter, open == null ? tracked.token() : null);
        }
    }

    /**
     * The transactions that write this segment's dead letters together with its fenced token: the dead-letter store
     * itself when it is also the token store's {@link ProcessingTransactions} (a {@code JdbcProcessingStore}, with the
     * delivery's transactions when it is transactional); null when the letters live apart (a store of their own, or
     * in memory), where they are written on their own, unfenced.
     */
    @Nullable ProcessingTransactions letterTransactions() {
        if (runtime.transactions != null) {
            return runtime.deadLetters == runtime.transactions ? runtime.transactions : null;
        }
        return runtime.deadLetters instanceof ProcessingTransactions own && own.tokenStore() == runtime.tokens ? own
                : null;
    }

    /**
     * Writes a dead letter: with {@link #letterTransactions}, in a transaction fenced by the token update to
     * {@code past} (or, when null, by a fence that moves no token), so that a superseded owner writes none, and
     * {@code past} then counts as stored; else to the store alone.
     *
     * @throws StaleSegmentOwnerException when the token store has given the segment to a newer owner
     */
    void writeLetter(DeadLetter letter, @Nullable TrackingToken past) {
        ProcessingTransactions transactions = letterTransactions();
        if (transactions == null) {
            runtime.deadLetters.add(letter);
            return;
        }
        try (ProcessingTransaction transaction = transactions.begin()) {
            transaction.addDeadLetter(letter);
            if (past == null) {
                transaction.fence(runtime.name, segment, runtime.owner, epoch);
            } else {
                transaction.updateToken(runtime.name, segment, runtime.owner, epoch, past);
            }
            transaction.commit();
        }
        if (past != null) {
            checkpoint.stored(past);
        }
    }

    /**
     * Handles the segment's dead letters again, each aggregate's in order, until one fails again.
     *
     * <p>What can repeat: transactionally, with the letters in the delivery's database, nothing: a letter is removed
     * in the fenced transaction of its handler's writes, so its event is applied and the letter gone together, or
     * neither. At least once, or with a dead-letter store apart from the delivery's database, the letter is removed
     * after its handler returned: when that removal fails (the store fails, the node dies, or another node has taken
     * the segment over), the next retry runs the handler with the event again.
     *
     * @param letters  the segment's dead letters
     * @param onFenced told when another node has taken the segment over
     * @return what the retry did; when another node has taken the segment over, the letters not handled yet are left
     *         to it and counted as remaining
     * @throws GyreTransientException when a store failed; the letters not handled stay for the next retry
     */
    DeadLetterRetry retry(List<DeadLetter> letters, Consumer<StaleSegmentOwnerException> onFenced) {
        Map<StreamId, List<DeadLetter>> byStream = new LinkedHashMap<>();
        for (DeadLetter letter : letters) {
            byStream.computeIfAbsent(letter.event().stream(), stream -> new ArrayList<>()).add(letter);
        }
        int handledCount = 0;
        for (Map.Entry<StreamId, List<DeadLetter>> entry : byStream.entrySet()) {
            List<DeadLetter> ofStream = entry.getValue();
            int done = 0;
            try {
                for (DeadLetter letter : ofStream) {
                    if (!retryOne(letter)) {
                        break;
                    }
                    done++;
                }
            } catch (StaleSegmentOwnerException e) {
                onFenced.accept(e);
                handledCount += done;
                log.info("Processor '{}' segment {} retried dead letters until it was superseded: {} handled, the "
                        + "other {} left to the segment's owner", runtime.name, segment, handledCount,
                        letters.size() - handledCount);
                return new DeadLetterRetry(handledCount, letters.size() - handledCount);
            } catch (RuntimeException e) {
                handledCount += done;
                throw new GyreTransientException("Processor '" + runtime.name + "' segment " + segment + " stopped "
                        + "retrying its dead letters after handling " + handledCount + " of " + letters.size()
                        + ", on a store failure while retrying event " + ofStream.get(done).event().eventId()
                        + "; the letters not handled stay for the next retry", e);
            }
            handledCount += done;
            if (done == ofStream.size()) {
                parked.remove(entry.getKey());
            }
        }
        int remaining = letters.size() - handledCount;
        log.info("Processor '{}' segment {} retried dead letters: {} handled, {} remain", runtime.name, segment,
                handledCount, remaining);
        return new DeadLetterRetry(handledCount, remaining);
    }

    /**
     * Handles one dead letter again and removes it, or records that it failed again.
     *
     * @return true when it was handled and removed, false when its handler failed again
     * @throws StaleSegmentOwnerException when the token store has given the segment to a newer owner: nothing of the
     *                                    retry was committed (transactionally)
     * @throws RuntimeException           when a store failed
     */
    private boolean retryOne(DeadLetter letter) {
        StoredEvent event = letter.event();
        TrackedEvent tracked = new TrackedEvent(event, letter.token() == null ? TrackingToken.START : letter.token());
        ProcessingTransactions letterTransactions = letterTransactions();
        Throwable error;
        if (runtime.transactions == null) {
            error = HandlerCalls.invoke(runtime.dispatcher, tracked, segment, null);
            if (error == null) {
                if (letterTransactions != null) {
                    try (ProcessingTransaction transaction = letterTransactions.begin()) {
                        transaction.removeDeadLetter(runtime.name, event.eventId());
                        transaction.fence(runtime.name, segment, runtime.owner, epoch);
                        transaction.commit();
                    }
                } else {
                    runtime.deadLetters.remove(runtime.name, event.eventId());
                }
                return true;
            }
        } else {
            try (ProcessingTransaction transaction = runtime.transactions.begin()) {
                error = HandlerCalls.invoke(runtime.dispatcher, tracked, segment, transaction.resource());
                if (error == null) {
                    if (letterTransactions != null) {
                        transaction.removeDeadLetter(runtime.name, event.eventId());
                    }
                    // Last, as a turn's token update is: the fence holds (the token row locked) until the commit.
                    transaction.fence(runtime.name, segment, runtime.owner, epoch);
                    transaction.commit();
                }
            }
            if (error == null) {
                if (letterTransactions == null) {
                    runtime.deadLetters.remove(runtime.name, event.eventId());
                }
                return true;
            }
        }
        writeLetter(letter.failedAgain(HandlerCalls.describe(error), runtime.clock.instant()), null);
        return false;
    }
}
