package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.Snapshot;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The snapshots table: one row per stream, its latest snapshot, with the SQL next to its binding and mapping. A
 * write is one statement that keeps the stored row when it is of the same class version and a later sequence
 * number (a slower writer never replaces a newer snapshot), and replaces it otherwise. Internal: not part of Gyre's
 * API.
 */
public final class JdbcSnapshots {

    private static final String COLUMNS = "aggregate_type, aggregate_id, sequence_number, last_event_id, "
            + "snapshot_type, snapshot_revision, shape_hash, payload, taken_at";

    private final Connections connections;
    private final Failures failures;
    private final String table;
    private final String latest;
    private final String store;
    private final @Nullable String withPage;

    /**
     * @param connections where connections come from
     * @param failures    translates driver errors
     * @param table       the snapshots table
     */
    public JdbcSnapshots(Connections connections, Failures failures, String table) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.table = Objects.requireNonNull(table, "table");
        this.latest = "SELECT sequence_number, last_event_id, snapshot_type, snapshot_revision, shape_hash, payload, "
                + "taken_at FROM " + table + " WHERE aggregate_type = ? AND aggregate_id = ?";
        String replaces = "s.sequence_number < n.sequence_number OR s.snapshot_type <> n.snapshot_type"
                + " OR s.snapshot_revision <> n.snapshot_revision OR s.shape_hash <> n.shape_hash";
        String set = "sequence_number = n.sequence_number, last_event_id = n.last_event_id, "
                + "snapshot_type = n.snapshot_type, snapshot_revision = n.snapshot_revision, "
                + "shape_hash = n.shape_hash, payload = n.payload, taken_at = n.taken_at";
        this.withPage = connections.postgres() ? connections.sql().readSnapshotWithStreamPage(table) : null;
        if (connections.postgres()) {
            this.store = "INSERT INTO " + table + " AS s (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, "
                    + "CAST(? AS jsonb), ?) ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET "
                    + set.replace("n.", "EXCLUDED.") + " WHERE " + replaces.replace("n.", "EXCLUDED.");
        } else {
            this.store = "MERGE INTO " + table + " s USING (SELECT CAST(? AS CHARACTER VARYING) aggregate_type, "
                    + "CAST(? AS CHARACTER VARYING) aggregate_id, CAST(? AS BIGINT) sequence_number, "
                    + "CAST(? AS CHARACTER VARYING) last_event_id, CAST(? AS CHARACTER VARYING) snapshot_type, "
                    + "CAST(? AS INTEGER) snapshot_revision, CAST(? AS CHARACTER VARYING) shape_hash, "
                    + "CAST(? AS CHARACTER LARGE OBJECT) payload, CAST(? AS TIMESTAMP WITH TIME ZONE) taken_at) n"
                    + " ON s.aggregate_type = n.aggregate_type AND s.aggregate_id = n.aggregate_id"
                    + " WHEN MATCHED AND (" + replaces + ") THEN UPDATE SET " + set
                    + " WHEN NOT MATCHED THEN INSERT (" + COLUMNS + ") VALUES (" + COLUMNS.replaceAll("(\\w+)", "n.$1")
                    + ")";
        }
    }

    /** @return true when {@link #latestWithFirstPage} can read snapshots and events together (PostgreSQL) */
    public boolean readsWithEvents() {
        return withPage != null;
    }

    /**
     * @param stream the aggregate
     * @return its snapshot, if any
     */
    public Optional<Snapshot> latest(StreamId stream) {
        Objects.requireNonNull(stream, "stream");
        try {
            return connections.read(connection -> {
                try (PreparedStatement query = connections.prepare(connection, latest)) {
                    query.setString(1, stream.aggregateType());
                    query.setString(2, stream.aggregateId());
                    try (ResultSet rows = query.executeQuery()) {
                        if (!rows.next()) {
                            return Optional.<Snapshot>empty();
                        }
                        return Optional.of(snapshot(stream, rows, 1));
                    }
                }
            });
        } catch (SQLException e) {
            throw failures.of("Reading the snapshot of " + stream + " from " + table, e);
        }
    }

    private static Snapshot snapshot(StreamId stream, ResultSet rows, int from) throws SQLException {
        int c = from;
        return new Snapshot(stream, rows.getLong(c), rows.getString(c + 1), rows.getString(c + 2), rows.getInt(c + 3),
                rows.getString(c + 4), rows.getString(c + 5), rows.getObject(c + 6, OffsetDateTime.class).toInstant());
    }

    /**
     * A stream's latest snapshot and the first page of its events from the snapshot's sequence number on.
     *
     * @param snapshot the snapshot, or null when the stream has none
     * @param page     the events from its sequence number on (from 0 without one), a page at most, in order
     */
    public record WithPage(@Nullable Snapshot snapshot, List<StoredEvent> page) {
    }

    /**
     * PostgreSQL: reads a stream's latest snapshot and the first page of its events together, one query
     * ({@link Statements#readSnapshotWithStreamPage}).
     *
     * @param stream   the aggregate
     * @param pageSize events in the page at most
     * @return the snapshot and the page
     */
    public WithPage latestWithFirstPage(StreamId stream, int pageSize) {
        Objects.requireNonNull(stream, "stream");
        String sql = withPage;
        if (sql == null) {
            throw new IllegalStateException("H2 reads a snapshot and its events one after the other");
        }
        try (Connection connection = connections.open();
             PreparedStatement query = connections.prepare(connection, sql)) {
            int p = 1;
            for (int i = 0; i < 3; i++) {
                query.setString(p++, stream.aggregateType());
                query.setString(p++, stream.aggregateId());
            }
            query.setInt(p, pageSize);
            Snapshot snapshot = null;
            List<StoredEvent> page = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    if (rows.getInt(1) == 0) {
                        snapshot = snapshot(stream, rows, 2);
                    } else {
                        page.add(Statements.event(rows, 9));
                    }
                }
            }
            return new WithPage(snapshot, page);
        } catch (SQLException e) {
            throw failures.of("Reading the snapshot of " + stream + " from " + table + " with its events", e);
        }
    }

    /**
     * @param snapshot kept unless a later one of the same class version is stored
     */
    public void store(Snapshot snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        try (Connection connection = connections.open();
             PreparedStatement insert = connections.prepare(connection, store)) {
            int p = 1;
            insert.setString(p++, snapshot.stream().aggregateType());
            insert.setString(p++, snapshot.stream().aggregateId());
            insert.setLong(p++, snapshot.sequence());
            insert.setString(p++, snapshot.lastEventId());
            insert.setString(p++, snapshot.type());
            insert.setInt(p++, snapshot.revision());
            insert.setString(p++, snapshot.shape());
            insert.setString(p++, snapshot.payload());
            insert.setObject(p, OffsetDateTime.ofInstant(snapshot.takenAt(), ZoneOffset.UTC));
            insert.executeUpdate();
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
        } catch (SQLException e) {
            throw failures.of("Storing the snapshot of " + snapshot.stream() + " at sequence " + snapshot.sequence()
                    + " into " + table, e);
        }
    }
}
