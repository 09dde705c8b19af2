package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.util.List;

/**
 * The global log of one dialect: reading committed events in an order that never puts a late commit behind a
 * position a reader has passed, and the part appends play in it. Internal: not part of Gyre's API.
 *
 * <p>Global positions come from an identity column and are handed out when rows are inserted, not when they
 * commit: position 8 can be visible while position 7's transaction is still open, and 7 may commit later or roll
 * back and never appear. A reader that moves past 8 must not lose 7, and must not wait for ever for a 7 that
 * rolled back. {@link PostgresGlobalLog} and {@link H2GlobalLog} say how each database gets there.
 */
public interface GlobalLog {

    /**
     * @param after    the token of the last event handled
     * @param maxCount the most events to return, 1 or more
     * @return the next committed events after the token, in token order
     */
    List<TrackedEvent> readAll(TrackingToken after, int maxCount);

    /** Called by an append before it inserts events; {@link #leaveAppend()} must follow its commit or rollback. */
    void enterAppend();

    /** Called by an append after its commit or rollback. */
    void leaveAppend();
}
