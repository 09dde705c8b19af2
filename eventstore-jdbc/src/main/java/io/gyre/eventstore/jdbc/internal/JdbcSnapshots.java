package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.Snapshot;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;

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

    /**
     * @param stream the aggregate
     * @return its snapshot, if any
     */
    public Optional<Snapshot> latest(StreamId stream) {
        Objects.requireNonNull(stream, "stream");
        try (Connection connection = connections.open();
             PreparedStatement query = connections.prepare(connection, latest)) {
            query.setString(1, stream.aggregateType());
            query.setString(2, stream.aggregateId());
            try (ResultSet rows = query.executeQuery()) {
                if (!rows.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Snapshot(stream, rows.getLong(1), rows.getString(2), rows.getString(3),
                        rows.getInt(4), rows.getString(5), rows.getString(6),
                        rows.getObject(7, OffsetDateTime.class).toInstant()));
            }
        } catch (SQLException e) {
            throw failures.of("Reading the snapshot of " + stream + " from " + table, e);
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
