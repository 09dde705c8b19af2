package io.gyre.processing.internal;

import io.gyre.eventstore.TrackingToken;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * How far one segment worker has got, and when its token is worth storing. {@code handled} is the token up to which
 * the segment is done (handled, dead-lettered, or not its event); {@code stored} the token last written to the token
 * store. The worker writes; this class keeps the figures and decides whether a write may wait.
 *
 * <p>Why a write waits: while catching up, a queue runs dry after every batch the reader hands out (a worker handles
 * its share of a batch faster than the reader reads the next one), so storing then cost one token write per segment
 * per batch: four segments made four writes per thousand events, a seventh of the segments' time in a profile, and
 * more of the database's. After handled events the token is stored once the segment has nothing more to do, or a few
 * batches or a second after the last store, whichever comes first (a node that dies hands its successor at most that
 * much to handle again); when only other segments' events passed, at most once a second, since losing that costs only
 * a re-read.
 *
 * <p>Written by the worker's loop only (one turn at a time); {@link #handled} and {@link #handledTimestamp} are read
 * anywhere. Internal: not part of Gyre's API.
 */
final class TokenCheckpoint {

    /** A token that waits is stored this long after the last store at the latest. */
    static final long IDLE_STORE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** While more is queued, the token is stored after this many batches of events at the latest. */
    private static final int STORE_BATCHES = 4;

    private volatile TrackingToken handled = TrackingToken.START;
    private volatile @Nullable Instant handledTimestamp;
    private TrackingToken stored = TrackingToken.START;
    private long storedAt = System.nanoTime();
    private boolean unstoredEvents;
    private int eventsSinceStore;

    /** Starts from a claimed token, which the token store holds already. */
    void startAt(TrackingToken token) {
        handled = token;
        stored = token;
        storedAt = System.nanoTime();
    }

    /** @return the token up to which the segment is done */
    TrackingToken handled() {
        return handled;
    }

    /** @return the time of the last event the segment is done with, null before the first */
    @Nullable Instant handledTimestamp() {
        return handledTimestamp;
    }

    /** The segment is done with an item: its event was handled or dead-lettered, or it only marks progress. */
    void advance(Item item) {
        handled = item.token();
        handledTimestamp = item.timestamp();
    }

    /** Counts an event whose handlers returned: storing its token is due sooner than a mere progress mark. */
    void handledEvent() {
        unstoredEvents = true;
        eventsSinceStore++;
    }

    /** Records that the token store now holds {@code token}. */
    void stored(TrackingToken token) {
        stored = token;
        storedAt = System.nanoTime();
        unstoredEvents = false;
        eventsSinceStore = 0;
    }

    /** @return true when the token store holds the handled token */
    boolean upToDate() {
        return handled.equals(stored);
    }

    /**
     * @param now        {@link System#nanoTime()}
     * @param batchSize  the processor's batch size
     * @param moreAhead  whether more events are coming for the segment (asked only when it matters: it takes a lock)
     * @return true when storing the handled token may wait
     */
    boolean mayWait(long now, int batchSize, BooleanSupplier moreAhead) {
        boolean due = now - storedAt >= IDLE_STORE_NANOS;
        return !due && (!unstoredEvents || (eventsSinceStore < STORE_BATCHES * batchSize && moreAhead.getAsBoolean()));
    }

    /** @return nanoseconds from {@code now} until a store that waits falls due */
    long untilDue(long now) {
        return IDLE_STORE_NANOS - (now - storedAt);
    }
}
