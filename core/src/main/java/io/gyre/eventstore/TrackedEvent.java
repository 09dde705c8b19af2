package io.gyre.eventstore;

import java.util.Objects;

/**
 * An event read from the global log with the token a reader stores once it has handled the event.
 *
 * @param event the event
 * @param token the reader's position after this event
 */
public record TrackedEvent(StoredEvent event, TrackingToken token) {

    /** Checks both parts. */
    public TrackedEvent {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(token, "token");
    }
}
