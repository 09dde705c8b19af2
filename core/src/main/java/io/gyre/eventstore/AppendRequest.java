package io.gyre.eventstore;

import io.gyre.serialization.SerializedValue;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * All events one command produced for one aggregate; a store appends them atomically or not at all.
 *
 * @param aggregateType the aggregate's type name
 * @param aggregateId   the aggregate's id
 * @param expected      the optimistic check on the aggregate's last sequence number
 * @param commandId     the id of the command that produced the events, stored with each of them
 * @param events        the events in order, at least one
 * @param result        the command's result, stored with its events so that a re-sent command can be
 *                      acknowledged with it; null when the handler returned nothing
 */
public record AppendRequest(String aggregateType, String aggregateId, ExpectedSequence expected, String commandId,
                            List<EventData> events, @Nullable SerializedValue result) {

    /** Checks every part and copies the events. */
    public AppendRequest {
        Objects.requireNonNull(aggregateType, "aggregateType");
        Objects.requireNonNull(aggregateId, "aggregateId");
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(commandId, "commandId");
        events = List.copyOf(events);
        if (events.isEmpty()) {
            throw new IllegalArgumentException("an append needs at least one event (aggregate " + aggregateId + ")");
        }
        if (aggregateId.isBlank()) {
            throw new IllegalArgumentException("aggregateId must not be blank");
        }
    }

    /**
     * A request whose command has no result to store.
     *
     * @param aggregateType the aggregate's type name
     * @param aggregateId   the aggregate's id
     * @param expected      the optimistic check on the aggregate's last sequence number
     * @param commandId     the id of the command that produced the events
     * @param events        the events in order, at least one
     */
    public AppendRequest(String aggregateType, String aggregateId, ExpectedSequence expected, String commandId,
                         List<EventData> events) {
        this(aggregateType, aggregateId, expected, commandId, events, null);
    }
}
