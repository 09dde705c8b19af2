package io.gyre.processing;

import io.gyre.Metadata;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What an event handler may know about the event it handles, besides the event itself.
 *
 * @param processor the name of the processor running the handler
 * @param segment   the segment the event belongs to (0 in a subscribing processor)
 * @param stream    the aggregate's type and id
 * @param sequence  the event's sequence number within its aggregate, from 0
 * @param eventId   the event's globally unique id; a handler that must be idempotent on its own can key on it
 * @param commandId the id of the command that produced the event
 * @param timestamp when the event was applied, by the clock of the node that applied it
 * @param metadata  the event's metadata
 * @param token     the event's place in the global log; null in a subscribing processor, which runs before a
 *                  reader has placed the event
 */
public record EventContext(String processor, int segment, StreamId stream, long sequence, String eventId,
                           String commandId, Instant timestamp, Metadata metadata, @Nullable TrackingToken token) {

    /** Checks every part. */
    public EventContext {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(metadata, "metadata");
        if (segment < 0) {
            throw new IllegalArgumentException("segment must be 0 or more, but was " + segment);
        }
    }
}
