package io.gyre.eventstore;

import java.time.Instant;
import java.util.Objects;

/**
 * One event about to be appended, already serialized.
 *
 * @param eventId   a globally unique id
 * @param type      the registered type name of the payload
 * @param payload   the event as JSON text
 * @param metadata  the event's metadata as a JSON object of strings
 * @param timestamp when the event was applied, from the node's clock
 * @param revision  the {@link io.gyre.serialization.Revision revision} of the payload's class, 0 or more; stored
 *                  with the event so that a later version of the class can upcast it
 */
public record EventData(String eventId, String type, String payload, String metadata, Instant timestamp,
                        int revision) {

    /** Checks every part is present. */
    public EventData {
        if (revision < 0) {
            throw new IllegalArgumentException("revision must be 0 or more, but was " + revision);
        }
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    /**
     * An event of a class at revision 0 (without {@link io.gyre.serialization.Revision}).
     *
     * @param eventId   a globally unique id
     * @param type      the registered type name of the payload
     * @param payload   the event as JSON text
     * @param metadata  the event's metadata as a JSON object of strings
     * @param timestamp when the event was applied
     */
    public EventData(String eventId, String type, String payload, String metadata, Instant timestamp) {
        this(eventId, type, payload, metadata, timestamp, 0);
    }
}
