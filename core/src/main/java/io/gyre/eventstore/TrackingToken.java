package io.gyre.eventstore;

import java.util.Comparator;

/**
 * Where a reader of the global log stands: everything at or before this token has been delivered. Tokens are
 * ordered by {@code (commitOrder, position)}. Stores whose positions become visible in commit order leave
 * {@code commitOrder} at 0; a store whose positions can become visible out of order (concurrent transactions
 * on PostgreSQL) orders the log by the committing transaction first, so that an event that commits late is
 * never behind a token a reader already holds.
 *
 * @param commitOrder the store's commit-order component, 0 when positions alone are ordered
 * @param position    the global position of the last delivered event, 0 before the first
 */
public record TrackingToken(long commitOrder, long position) implements Comparable<TrackingToken> {

    /** The token before the first event of every store. */
    public static final TrackingToken START = new TrackingToken(0, 0);

    private static final Comparator<TrackingToken> ORDER =
            Comparator.comparingLong(TrackingToken::commitOrder).thenComparingLong(TrackingToken::position);

    /** Checks both parts. */
    public TrackingToken {
        if (commitOrder < 0 || position < 0) {
            throw new IllegalArgumentException("token parts must be 0 or more, but were (" + commitOrder + ", "
                    + position + ")");
        }
    }

    /**
     * @param position a global position in a store whose positions are visible in commit order
     * @return the token at that position
     */
    public static TrackingToken at(long position) {
        return new TrackingToken(0, position);
    }

    @Override
    public int compareTo(TrackingToken other) {
        return ORDER.compare(this, other);
    }
}
