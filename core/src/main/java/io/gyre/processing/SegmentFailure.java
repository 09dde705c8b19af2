package io.gyre.processing;

import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The event a segment is failing on, and why.
 *
 * @param eventId   the event's id
 * @param stream    its aggregate
 * @param sequence  its sequence number in the aggregate
 * @param eventType its stored type name
 * @param token     its place in the log, null in a subscribing processor
 * @param cause     the last failure's class and message
 * @param error     the last failure itself, with its stack trace
 * @param attempts  how many times a handler failed with it
 * @param since     when it first failed
 */
public record SegmentFailure(String eventId, StreamId stream, long sequence, String eventType,
                             @Nullable TrackingToken token, String cause, Throwable error, int attempts,
                             Instant since) {

    /** Checks every part. */
    public SegmentFailure {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(since, "since");
    }

    @Override
    public String toString() {
        return "event " + eventId + " (" + eventType + ", " + stream + " #" + sequence + (token == null ? ""
                : ", at " + token) + ") failed " + attempts + " times since " + since + ": " + cause;
    }
}
