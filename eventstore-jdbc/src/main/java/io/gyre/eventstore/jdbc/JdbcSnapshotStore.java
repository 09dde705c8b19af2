package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.ReadEventStream;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.internal.JdbcSnapshots;
import io.gyre.eventstore.jdbc.internal.StreamReader;
import io.gyre.snapshot.ReadSnapshotWithEvents;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import io.gyre.snapshot.SnapshotWithEvents;
import java.util.Objects;
import java.util.Optional;

/**
 * Snapshots in the snapshots table of a {@link JdbcEventStore}, on its database and connections: get it with
 * {@link JdbcEventStore#snapshots()} and give it to {@code Gyre.builder().snapshots(...)}. One row per aggregate,
 * its latest snapshot, keyed by (aggregate type, aggregate id); a write replaces the row in one statement unless
 * the stored snapshot is of the same class version and later. It lives as long as its event store: closing the
 * event store closes the connections it uses. Thread-safe.
 */
public final class JdbcSnapshotStore implements SnapshotStore, ReadSnapshotWithEvents {

    private final JdbcSnapshots snapshots;
    private final StreamReader reader;
    private final String table;

    JdbcSnapshotStore(JdbcSnapshots snapshots, StreamReader reader, String table) {
        this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
        this.reader = Objects.requireNonNull(reader, "reader");
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

    /**
     * On PostgreSQL, for the event store this snapshot store belongs to ({@link JdbcEventStore#snapshots()}): the
     * snapshot and the first page of events ({@link JdbcEventStore.Builder#readBatchSize(int)}) in one query, the
     * further pages as {@link JdbcEventStore#readStream} reads them. Empty on H2, which runs in the caller's process
     * (two reads cost no round trip), and for any other event store.
     *
     * @throws JdbcEventStoreException when the database cannot be read
     */
    @Override
    public Optional<SnapshotWithEvents> latestWithEvents(StreamId stream, ReadEventStream events) {
        Objects.requireNonNull(stream, "stream");
        if (!(events instanceof JdbcEventStore store) || store.snapshots() != this || !snapshots.readsWithEvents()) {
            return Optional.empty();
        }
        JdbcSnapshots.WithPage read = snapshots.latestWithFirstPage(stream, reader.pageSize());
        Snapshot snapshot = read.snapshot();
        long from = snapshot == null ? 0 : snapshot.sequence();
        return Optional.of(new SnapshotWithEvents(snapshot, reader.read(stream, from, read.page())));
    }

    @Override
    public String toString() {
        return "JdbcSnapshotStore[" + table + "]";
    }
}
