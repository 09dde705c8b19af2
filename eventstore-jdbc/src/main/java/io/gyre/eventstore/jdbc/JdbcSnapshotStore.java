package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.internal.JdbcSnapshots;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import java.util.Objects;
import java.util.Optional;

/**
 * Snapshots in the snapshots table of a {@link JdbcEventStore}, on its database and connections: get it with
 * {@link JdbcEventStore#snapshots()} and give it to {@code Gyre.builder().snapshots(...)}. One row per aggregate,
 * its latest snapshot, keyed by (aggregate type, aggregate id); a write replaces the row in one statement unless
 * the stored snapshot is of the same class version and later. It lives as long as its event store: closing the
 * event store closes the connections it uses. Thread-safe.
 */
public final class JdbcSnapshotStore implements SnapshotStore {

    private final JdbcSnapshots snapshots;
    private final String table;

    JdbcSnapshotStore(JdbcSnapshots snapshots, String table) {
        this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
        this.table = table;
    }

    /**
     * @throws JdbcEventStoreException when the database cannot be read
     */
    @Override
    public Optional<Snapshot> latest(StreamId stream) {
        return snapshots.latest(stream);
    }

    /**
     * @throws JdbcEventStoreException when the database cannot be written
     */
    @Override
    public void store(Snapshot snapshot) {
        snapshots.store(snapshot);
    }

    @Override
    public String toString() {
        return "JdbcSnapshotStore[" + table + "]";
    }
}
