package io.gyre.aggregate.internal;

import io.gyre.Metadata;
import java.util.Objects;

/**
 * An event a command handler applied, not yet stored. Internal: not part of Gyre's API.
 *
 * @param payload  the event
 * @param metadata its metadata
 */
public record AppliedEvent(Object payload, Metadata metadata) {

    /** Checks both parts. */
    public AppliedEvent {
        Objects.requireNonNull(payload, "event");
        Objects.requireNonNull(metadata, "metadata");
    }
}
