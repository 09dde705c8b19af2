package io.gyre.eventstore;

import java.util.List;

/** Reading the global log of all aggregates, for event processors. */
@FunctionalInterface
public interface ReadAllEvents {

    /**
     * Reads the next committed events after a token, in token order. Calling again with the token of the last
     * event returned continues without skipping or repeating any event, including events whose transaction
     * committed after an event with a higher position was already visible.
     *
     * @param after    the token of the last event already handled, {@link TrackingToken#START} at first
     * @param maxCount the most events to return, 1 or more
     * @return up to {@code maxCount} events; empty when nothing new has committed
     * @throws EventStoreException when the store cannot be read
     */
    List<TrackedEvent> readAll(TrackingToken after, int maxCount);
}
