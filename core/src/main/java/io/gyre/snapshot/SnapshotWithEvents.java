package io.gyre.snapshot;

import io.gyre.eventstore.StoredEvent;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A stream's latest snapshot and its events from the snapshot's sequence number on, read together
 * ({@link ReadSnapshotWithEvents}).
 *
 * @param snapshot the latest snapshot, or null when the stream has none
 * @param events   the stream's events from the snapshot's own sequence number on, or from 0 without a snapshot, in
 *                 order; lazily read past the first page, so close it
 */
public record SnapshotWithEvents(@Nullable Snapshot snapshot, Stream<StoredEvent> events) {

    /** Checks the events are there. */
    public SnapshotWithEvents {
        Objects.requireNonNull(events, "events");
    }
}
