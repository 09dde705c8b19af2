package io.gyre.processing;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An event a processor gave up on: its handler kept failing, or an earlier event of the same aggregate is already
 * a dead letter (so that the aggregate's events are never handled out of order). It waits in a
 * {@link DeadLetterStore} until {@link Processors#retryDeadLetters(String)} handles it.
 *
 * @param processor     the processor's name
 * @param segment       the segment the event belongs to
 * @param event         the event as stored
 * @param token         its place in the global log; null for a subscribing processor
 * @param cause         why: the last failure's class and message, or the earlier dead letter it waits behind
 * @param attempts      how many times a handler was called with it and failed, 0 for an event that waits behind
 *                      another
 * @param firstFailedAt when it became a dead letter
 * @param lastFailedAt  when it last failed
 */
public record DeadLetter(String processor, int segment, StoredEvent event, @Nullable TrackingToken token,
                         String cause, int attempts, Instant firstFailedAt, Instant lastFailedAt) {

    /** The longest {@link #cause()} kept, in characters; longer ones are cut. */
    public static final int MAX_CAUSE_LENGTH = 2000;

    /** Checks every part, and cuts the cause to {@link #MAX_CAUSE_LENGTH}. */
    public DeadLetter {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(firstFailedAt, "firstFailedAt");
        Objects.requireNonNull(lastFailedAt, "lastFailedAt");
        if (segment < 0 || attempts < 0) {
            throw new IllegalArgumentException("segment and attempts must be 0 or more, but were " + segment + " and "
                    + attempts);
        }
        if (cause.length() > MAX_CAUSE_LENGTH) {
            cause = cause.substring(0, MAX_CAUSE_LENGTH - 3) + "...";
        }
    }

    /**
     * @param failure  the new failure
     * @param at       when it happened
     * @return this letter after one more failed attempt
     */
    public DeadLetter failedAgain(String failure, Instant at) {
        return new DeadLetter(processor, segment, event, token, failure, attempts + 1, firstFailedAt, at);
    }
}
