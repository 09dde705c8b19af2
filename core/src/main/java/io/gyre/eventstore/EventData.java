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
 */
public record EventData(String eventId, String type, String payload, String metadata, Instant timestamp) {

    /** Checks every part is present. */
    public EventData {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(timestamp, "timestamp");
    }
}
