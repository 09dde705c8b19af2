package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * The dead-letter store on its table: one row per processor and event id, ordered by an identity column, which is
 * the order letters were added. Adding a letter again updates its cause, attempts and last failure in place.
 * Internal: not part of Gyre's API.
 */
public final class JdbcDeadLetters implements DeadLetterStore {

    private static final String COLUMNS = "processor_name, segment, event_id, global_position, aggregate_type, "
            + "aggregate_id, sequence_number, command_id, event_type, payload, metadata, occurred_at, commit_order, "
            + "token_position, cause, attempts, first_failed_at, last_failed_at, event_revision";

    private final DataSource dataSource;
    private final String table;

    /**
     * @param dataSource the database
     * @param table      the dead-letter table
     */
    public JdbcDeadLetters(DataSource dataSource, String table) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.table = Objects.requireNonNull(table, "table");
    }

    @Override
    public void add(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        for (int attempt = 1; ; attempt++) {
            try {
                JdbcWork.inTransaction(dataSource, connection -> {
                    if (updateExisting(connection, letter) == 0) {
                        insert(connection, letter);
                    }
                    return null;
                });
                return;
            } catch (SQLException e) {
                // Added concurrently by another node between our update and insert: update it now.
                if (!SqlErrors.isUniqueViolation(e) || attempt >= 3) {
                    throw SqlErrors.translate("Adding a dead letter of processor '" + letter.processor() + "' for event "
                            + letter.event().eventId() + " to " + table, e);
                }
            }
        }
    }

    /**
     * Adds a letter in the caller's transaction, which the caller commits: updated in place if it exists, else
     * inserted. A concurrent insert of the same letter fails the statement (a unique violation) instead of being
     * retried here, since the failed statement has spoiled the caller's transaction.
     *
     * @throws SQLException when the database fails
     */
    void add(Connection connection, DeadLetter letter) throws SQLException {
        Objects.requireNonNull(letter, "letter");
        if (updateExisting(connection, letter) == 0) {
            insert(connection, letter);
        }
    }

    /**
     * Removes a letter in the caller's transaction, which the caller commits.
     *
     * @throws SQLException when the database fails
     */
    void remove(Connection connection, String processor, String eventId) throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table
                + " WHERE processor_name = ? AND event_id = ?")) {
            delete.setString(1, processor);
            delete.setString(2, eventId);
            delete.executeUpdate();
        }
    }

    private int updateExisting(Connection connection, DeadLetter letter) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement("UPDATE " + table
                + " SET cause = ?, attempts = ?, last_failed_at = ? WHERE processor_name = ? AND event_id = ?")) {
            update.setString(1, letter.cause());
            update.setInt(2, letter.attempts());
            update.setObject(3, utc(letter.lastFailedAt()));
            update.setString(4, letter.processor());
            update.setString(5, letter.event().eventId());
            return update.executeUpdate();
        }
    }

    private void insert(Connection connection, DeadLetter letter) throws SQLException {
        StoredEvent event = letter.event();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table + " (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int p = 1;
            insert.setString(p++, letter.processor());
            insert.setInt(p++, letter.segment());
            insert.setString(p++, event.eventId());
            insert.setLong(p++, event.position());
            insert.setString(p++, event.aggregateType());
            insert.setString(p++, event.aggregateId());
            insert.setLong(p++, event.sequence());
            insert.setString(p++, event.commandId());
            insert.setString(p++, event.type());
            insert.setString(p++, event.payload());
            insert.setString(p++, event.metadata());
            insert.setObject(p++, utc(event.timestamp()));
            TrackingToken token = letter.token();
            if (token == null) {
                insert.setNull(p++, Types.BIGINT);
                insert.setNull(p++, Types.BIGINT);
            } else {
                insert.setLong(p++, token.commitOrder());
                insert.setLong(p++, token.position());
            }
            insert.setString(p++, letter.cause());
            insert.setInt(p++, letter.attempts());
            insert.setObject(p++, utc(letter.firstFailedAt()));
            insert.setObject(p++, utc(letter.lastFailedAt()));
            insert.setInt(p, event.revision());
            insert.executeUpdate();
        }
    }

    @Override
    public List<DeadLetter> list(String processor, int segment) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT " + COLUMNS + " FROM " + table
                     + " WHERE processor_name = ? AND segment = ? ORDER BY id")) {
            query.setString(1, processor);
            query.setInt(2, segment);
            List<DeadLetter> letters = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    letters.add(letter(rows));
                }
            }
            return letters;
        } catch (SQLException e) {
            throw SqlErrors.translate("Reading the dead letters of segment " + segment + " of processor '" + processor
                    + "' from " + table, e);
        }
    }

    private static DeadLetter letter(ResultSet rows) throws SQLException {
        StoredEvent event = new StoredEvent(rows.getLong(4), rows.getString(5), rows.getString(6), rows.getLong(7),
                rows.getString(3), rows.getString(8), rows.getString(9), rows.getString(10), rows.getString(11),
                rows.getObject(12, OffsetDateTime.class).toInstant(), rows.getInt(19));
        long commitOrder = rows.getLong(13);
        TrackingToken token = rows.wasNull() ? null : new TrackingToken(commitOrder, rows.getLong(14));
        return new DeadLetter(rows.getString(1), rows.getInt(2), event, token, rows.getString(15), rows.getInt(16),
                rows.getObject(17, OffsetDateTime.class).toInstant(), rows.getObject(18, OffsetDateTime.class)
                .toInstant());
    }

    @Override
    public void remove(String processor, String eventId) {
        delete("DELETE FROM " + table + " WHERE processor_name = ? AND event_id = ?", processor, eventId);
    }

    @Override
    public void clear(String processor) {
        delete("DELETE FROM " + table + " WHERE processor_name = ?", processor, null);
    }

    private void delete(String sql, String processor, String eventId) {
        try {
            JdbcWork.inTransaction(dataSource, connection -> {
                try (PreparedStatement delete = connection.prepareStatement(sql)) {
                    delete.setString(1, processor);
                    if (eventId != null) {
                        delete.setString(2, eventId);
                    }
                    return delete.executeUpdate();
                }
            });
        } catch (SQLException e) {
            throw SqlErrors.translate("Removing dead letters of processor '" + processor + "'" + (eventId == null ? ""
                    : " for event " + eventId) + " from " + table, e);
        }
    }

    @Override
    public Map<Integer, Integer> counts(String processor) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT segment, COUNT(*) FROM " + table
                     + " WHERE processor_name = ? GROUP BY segment")) {
            query.setString(1, processor);
            Map<Integer, Integer> counts = new TreeMap<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    counts.put(rows.getInt(1), rows.getInt(2));
                }
            }
            return counts;
        } catch (SQLException e) {
            throw SqlErrors.translate("Counting the dead letters of processor '" + processor + "' in " + table, e);
        }
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
