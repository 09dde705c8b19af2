package io.gyre.eventstore;

import io.gyre.serialization.SerializedValue;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the store holds of a command that was applied: where its events landed and the result it returned.
 *
 * @param aggregateId   the aggregate the command targeted
 * @param commandId     the command
 * @param firstSequence the sequence number of its first event
 * @param lastSequence  the sequence number of its last event
 * @param result        its result, or null when it returned nothing
 */
public record CommandRecord(String aggregateId, String commandId, long firstSequence, long lastSequence,
                            @Nullable SerializedValue result) {

    /** Checks every part. */
    public CommandRecord {
        Objects.requireNonNull(aggregateId, "aggregateId");
        Objects.requireNonNull(commandId, "commandId");
        if (firstSequence < 0 || lastSequence < firstSequence) {
            throw new IllegalArgumentException("bad sequence range " + firstSequence + ".." + lastSequence);
        }
    }
}
