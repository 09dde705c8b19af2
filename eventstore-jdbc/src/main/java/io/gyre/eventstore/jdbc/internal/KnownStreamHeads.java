package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.StreamId;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * For each recently used stream, the highest sequence number this store has seen committed: appended by it,
 * or read from the database. Events are never deleted and a commit is durable, so once an event is known to be
 * stored it stays stored (the store forgets everything when the database fails as a whole, and must be
 * restarted after tables are truncated or a backup is restored),
 * and an append that expects a known event to be last needs no query to prove that event exists; only an
 * append that expects an event this store has never seen asks the database first. This is how streams stay
 * contiguous without a check inside every INSERT (a trigger cost PostgreSQL about a fifth of its append
 * throughput).
 *
 * <p>A hint with a bound: past its capacity, arbitrary entries are dropped, which costs a forgotten aggregate
 * one query on its next append. Thread-safe. Internal: not part of Gyre's API.
 */
public final class KnownStreamHeads {

    private final int capacity;
    private final ConcurrentHashMap<StreamId, Long> heads = new ConcurrentHashMap<>();
    private final AtomicBoolean evicting = new AtomicBoolean();

    /** @param capacity the most aggregates remembered, 16 or more */
    public KnownStreamHeads(int capacity) {
        if (capacity < 16) {
            throw new IllegalArgumentException("capacity must be 16 or more, but was " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * @param stream   an aggregate's stream
     * @param sequence a sequence number, 0 or more
     * @return true when an event of the stream at that sequence number or later is known to be committed,
     *         so the one at that number is too (streams have no gaps)
     */
    public boolean reaches(StreamId stream, long sequence) {
        Long head = heads.get(stream);
        return head != null && head >= sequence;
    }

    /**
     * Records that an event of the stream at the sequence number is committed.
     *
     * @param stream   an aggregate's stream
     * @param sequence a committed sequence number
     */
    public void advance(StreamId stream, long sequence) {
        heads.merge(stream, sequence, Math::max);
        if (heads.size() > capacity && evicting.compareAndSet(false, true)) {
            try {
                // Whatever the iteration meets first goes: a forgotten aggregate only costs one query.
                Iterator<StreamId> ids = heads.keySet().iterator();
                for (int excess = heads.size() - capacity * 3 / 4; excess > 0 && ids.hasNext(); excess--) {
                    ids.next();
                    ids.remove();
                }
            } finally {
                evicting.set(false);
            }
        }
    }

    /**
     * Forgets everything: after the database failed as a whole, a fail-over to a replica that lags (or a
     * restore) may have lost events that were committed, so nothing is known any more.
     */
    public void clear() {
        heads.clear();
    }

    /** @return the streams remembered now */
    public int size() {
        return heads.size();
    }
}
