package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.ProcessorDefinitionException;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The token store on the tokens table. The fencing is the database's: a claim is an {@code UPDATE} whose condition
 * admits only a lower stored epoch (or the same owner at the same epoch), and a token update is an {@code UPDATE}
 * whose condition requires the caller's owner and epoch, so a stale owner's statement matches no row and changes
 * nothing, however the nodes' views of the cluster disagree. Row locks order a claim and an update racing on one
 * segment: whichever commits second sees the first's row. Internal: not part of Gyre's API.
 */
public final class JdbcTokens implements TokenStore {

    private final DataSource dataSource;
    private final String table;
    private final Clock clock;

    /**
     * @param dataSource the database
     * @param table      the tokens table
     * @param clock      stamps {@code updated_at}
     */
    public JdbcTokens(DataSource dataSource, String table, Clock clock) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.table = Objects.requireNonNull(table, "table");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void initialize(String processor, int segments) {
        if (segments < 1) {
            throw new IllegalArgumentException("segments must be 1 or more, but was " + segments);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                int existing = JdbcWork.inTransaction(dataSource, connection -> {
                    int count = count(connection, processor);
                    if (count == 0) {
                        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table
                                + " (processor_name, segment, commit_order, position, owner, updated_at, epoch)"
                                + " VALUES (?, ?, 0, 0, NULL, ?, 0)")) {
                            for (int segment = 0; segment < segments; segment++) {
                                insert.setString(1, processor);
                                insert.setInt(2, segment);
                                insert.setObject(3, now());
                                insert.addBatch();
                            }
                            insert.executeBatch();
                        }
                        return segments;
                    }
                    return count;
                });
                if (existing != segments) {
                    throw ProcessorDefinitionException.segmentCountChanged(processor, existing, segments);
                }
                return;
            } catch (SQLException e) {
                // Another node inserted the rows first: count them again.
                if (!SqlErrors.isUniqueViolation(e) || attempt >= 3) {
                    throw SqlErrors.translate("Creating the tokens of processor '" + processor + "' in " + table, e);
                }
            }
        }
    }

    private int count(Connection connection, String processor) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT COUNT(*) FROM " + table
                + " WHERE processor_name = ?")) {
            query.setString(1, processor);
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    @Override
    public TrackingToken claim(String processor, int segment, String owner, long epoch) {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be 1 or more, but was " + epoch);
        }
        try {
            return JdbcWork.inTransaction(dataSource, connection -> {
                try (PreparedStatement claim = connection.prepareStatement("UPDATE " + table
                        + " SET owner = ?, epoch = ?, updated_at = ? WHERE processor_name = ? AND segment = ?"
                        + " AND (epoch < ? OR (epoch = ? AND owner = ?))")) {
                    claim.setString(1, owner);
                    claim.setLong(2, epoch);
                    claim.setObject(3, now());
                    claim.setString(4, processor);
                    claim.setInt(5, segment);
                    claim.setLong(6, epoch);
                    claim.setLong(7, epoch);
                    claim.setString(8, owner);
                    if (claim.executeUpdate() == 0) {
                        throw refused(connection, processor, segment, owner, epoch);
                    }
                }
                return row(connection, processor, segment).token();
            });
        } catch (SQLException e) {
            throw SqlErrors.translate("Claiming segment " + segment + " of processor '" + processor + "' for '"
                    + owner + "' at epoch " + epoch + " in " + table, e);
        }
    }

    @Override
    public void update(String processor, int segment, String owner, long epoch, TrackingToken token) {
        Objects.requireNonNull(token, "token");
        try {
            JdbcWork.singleStatement(dataSource, connection -> {
                update(connection, processor, segment, owner, epoch, token);
                return null;
            });
        } catch (SQLException e) {
            throw SqlErrors.translate("Storing token " + token + " of segment " + segment + " of processor '"
                    + processor + "' in " + table, e);
        }
    }

    /**
     * The fenced token update, on a connection whose transaction the caller commits.
     *
     * @throws StaleSegmentOwnerException when the row does not hold the caller's owner and epoch
     * @throws SQLException               when the database fails
     */
    void update(Connection connection, String processor, int segment, String owner, long epoch, TrackingToken token)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement("UPDATE " + table
                + " SET commit_order = ?, position = ?, updated_at = ? WHERE processor_name = ? AND segment = ?"
                + " AND owner = ? AND epoch = ?")) {
            update.setLong(1, token.commitOrder());
            update.setLong(2, token.position());
            update.setObject(3, now());
            update.setString(4, processor);
            update.setInt(5, segment);
            update.setString(6, owner);
            update.setLong(7, epoch);
            if (update.executeUpdate() == 0) {
                throw refused(connection, processor, segment, owner, epoch);
            }
        }
    }

    /**
     * The fence of a transaction that stores no token: touches the row's {@code updated_at} only if it holds the
     * caller's owner and epoch. The row lock the {@code UPDATE} takes lasts until the caller's commit, so a claim
     * racing it waits for that commit (and the new owner then sees what the transaction wrote).
     *
     * @throws StaleSegmentOwnerException when the row does not hold the caller's owner and epoch
     * @throws SQLException               when the database fails
     */
    void fence(Connection connection, String processor, int segment, String owner, long epoch) throws SQLException {
        try (PreparedStatement touch = connection.prepareStatement("UPDATE " + table
                + " SET updated_at = ? WHERE processor_name = ? AND segment = ? AND owner = ? AND epoch = ?")) {
            touch.setObject(1, now());
            touch.setString(2, processor);
            touch.setInt(3, segment);
            touch.setString(4, owner);
            touch.setLong(5, epoch);
            if (touch.executeUpdate() == 0) {
                throw refused(connection, processor, segment, owner, epoch);
            }
        }
    }

    @Override
    public void release(String processor, int segment, String owner, long epoch) {
        try {
            JdbcWork.inTransaction(dataSource, connection -> {
                try (PreparedStatement release = connection.prepareStatement("UPDATE " + table
                        + " SET owner = NULL, updated_at = ? WHERE processor_name = ? AND segment = ? AND owner = ?"
                        + " AND epoch = ?")) {
                    release.setObject(1, now());
                    release.setString(2, processor);
                    release.setInt(3, segment);
                    release.setString(4, owner);
                    release.setLong(5, epoch);
                    return release.executeUpdate();
                }
            });
        } catch (SQLException e) {
            throw SqlErrors.translate("Releasing segment " + segment + " of processor '" + processor + "' in "
                    + table, e);
        }
    }

    @Override
    public List<SegmentToken> tokens(String processor) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT segment, commit_order, position, owner, "
                     + "epoch, updated_at FROM " + table + " WHERE processor_name = ? ORDER BY segment")) {
            query.setString(1, processor);
            List<SegmentToken> result = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    result.add(token(processor, rows));
                }
            }
            return result;
        } catch (SQLException e) {
            throw SqlErrors.translate("Reading the tokens of processor '" + processor + "' from " + table, e);
        }
    }

    private SegmentToken row(Connection connection, String processor, int segment) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT segment, commit_order, position, owner, "
                + "epoch, updated_at FROM " + table + " WHERE processor_name = ? AND segment = ?")) {
            query.setString(1, processor);
            query.setInt(2, segment);
            try (ResultSet rows = query.executeQuery()) {
                if (!rows.next()) {
                    throw new IllegalStateException("Processor '" + processor + "' has no token row for segment "
                            + segment + " in " + table + "; initialize its tokens first");
                }
                return token(processor, rows);
            }
        }
    }

    private StaleSegmentOwnerException refused(Connection connection, String processor, int segment, String owner,
                                               long epoch) throws SQLException {
        SegmentToken stored = row(connection, processor, segment);
        return new StaleSegmentOwnerException(processor, segment, owner, epoch, stored.owner(), stored.epoch());
    }

    private static SegmentToken token(String processor, ResultSet rows) throws SQLException {
        OffsetDateTime updated = rows.getObject(6, OffsetDateTime.class);
        return new SegmentToken(processor, rows.getInt(1), new TrackingToken(rows.getLong(2), rows.getLong(3)),
                rows.getString(4), rows.getLong(5), updated == null ? null : updated.toInstant());
    }

    private OffsetDateTime now() {
        return clock.instant().atOffset(ZoneOffset.UTC);
    }
}
