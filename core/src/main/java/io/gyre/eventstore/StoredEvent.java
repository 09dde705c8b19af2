package io.gyre.eventstore;

import java.time.Instant;
import java.util.Objects;

/**
 * An event as the store holds it.
 *
 * @param position      its position in the store's global log (unique, increasing in insertion order)
 * @param aggregateType the aggregate's type name
 * @param aggregateId   the aggregate's id
 * @param sequence      its sequence number within the aggregate, from 0
 * @param eventId       its globally unique id
 * @param commandId     the id of the command that produced it
 * @param type          the registered type name of the payload
 * @param payload       the event as JSON text
 * @param metadata      the metadata as a JSON object of strings
 * @param timestamp     when it was applied
 * @param revision      the revision of the payload's class it was stored at (0 for events stored before Gyre kept
 *                      revisions); readers upcast older ones, see {@link io.gyre.serialization.Revision}
 */
public record StoredEvent(long position, String aggregateType, String aggregateId, long sequence, String eventId,
                          String commandId, String type, String payload, String metadata, Instant timestamp,
                          int revision) {

    /**
     * An event stored at revision 0.
     *
     * @param position      its position in the global log
     * @param aggregateType the aggregate's type name
     * @param aggregateId   the aggregate's id
     * @param sequence      its sequence number within the aggregate
     * @param eventId       its globally unique id
     * @param commandId     the id of the command that produced it
     * @param type          the registered type name of the payload
     * @param payload       the event as JSON text
     * @param metadata      the metadata as a JSON object of strings
     * @param timestamp     when it was applied
     */
    public StoredEvent(long position, String aggregateType, String aggregateId, long sequence, String eventId,
                       String commandId, String type, String payload, String metadata, Instant timestamp) {
        this(position, aggregateType, aggregateId, sequence, eventId, commandId, type, payload, metadata, timestamp, 0);
    }

    /** Checks every part is present. */
    public StoredEvent {
        Objects.requireNonNull(aggregateType, "aggregateType");
        Objects.requireNonNull(aggregateId, "aggregateId");
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    /** @return the stream the event belongs to */
    public StreamId stream() {
        return new StreamId(aggregateType, aggregateId);
    }
}
