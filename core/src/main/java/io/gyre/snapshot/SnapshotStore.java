package io.gyre.snapshot;

import io.gyre.eventstore.StreamId;
import java.util.Optional;

/**
 * Where a node keeps the latest snapshot of each aggregate: {@code JdbcEventStore.snapshots()} next to the events,
 * or an {@link InMemorySnapshotStore} in tests. Given to a node with {@code Gyre.builder().snapshots(...)}.
 *
 * <p>A store keeps one snapshot per stream. Snapshots are a cache of what the events already say, so a store may
 * lose any of them at any time; it must never return a snapshot of another stream. Implementations are
 * thread-safe.
 */
public interface SnapshotStore {

    /**
     * @param stream the aggregate
     * @return its latest snapshot, if any
     * @throws io.gyre.eventstore.EventStoreException when the store cannot be read
     */
    Optional<Snapshot> latest(StreamId stream);

    /**
     * Keeps a snapshot as its stream's latest, unless the stored one was written by the same version of the
     * aggregate class at a later sequence number (a slower writer never replaces a newer snapshot with an older
     * one). A snapshot of another version replaces the stored one whatever its sequence number: during a rolling
     * upgrade, each version keeps snapshots it can use.
     *
     * @param snapshot the snapshot
     * @throws io.gyre.eventstore.EventStoreException when the store cannot be written
     */
    void store(Snapshot snapshot);
}
