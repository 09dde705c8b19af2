package io.gyre.eventstore.jdbc.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;

/**
 * Makes H2's global positions safe to follow. H2 hands out identity values when rows are inserted, not when
 * they commit, so a reader could see position 8 before position 7 commits and skip 7 for good. Every append
 * holds the read side of this lock from its insert to its commit; a reader takes the write side just long
 * enough to read the highest committed position. While it holds it no append is between insert and commit, so
 * every position up to that horizon has committed or rolled back, and a reader that stops at the horizon never
 * skips an event and never waits on a rolled-back one.
 *
 * <p>The lock lives in this JVM, shared by every store on the same database URL, which is why an H2 event store
 * must not be shared by several processes. Internal: not part of Gyre's API.
 */
public final class CommitOrderGate {

    private static final Map<String, CommitOrderGate> BY_DATABASE = new ConcurrentHashMap<>();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private CommitOrderGate() {
    }

    /**
     * @param databaseUrl the JDBC URL of the database
     * @return the gate shared by every store on that database in this JVM
     */
    public static CommitOrderGate forDatabase(String databaseUrl) {
        return BY_DATABASE.computeIfAbsent(databaseUrl, url -> new CommitOrderGate());
    }

    /** Enters an append; call {@link #leaveAppend()} after its commit or rollback. */
    public void enterAppend() {
        lock.readLock().lock();
    }

    /** Leaves an append. */
    public void leaveAppend() {
        lock.readLock().unlock();
    }

    /**
     * @param highestPosition reads the highest position stored
     * @return the position up to which every event has committed or rolled back
     */
    public long horizon(LongSupplier highestPosition) {
        lock.writeLock().lock();
        try {
            return highestPosition.getAsLong();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
