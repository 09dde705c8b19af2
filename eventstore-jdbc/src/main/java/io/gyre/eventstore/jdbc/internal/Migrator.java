package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versions of one line of schema files ({@link SchemaFiles}) not applied yet, after checking that the
 * versions of that line already applied are ones this Gyre ships, unchanged ({@link SchemaHistory}); on PostgreSQL in
 * one transaction under a database-wide lock (the same for every line, so that nodes starting together do not race
 * and a failure leaves nothing half-done). Internal: not part of Gyre's API.
 */
final class Migrator {

    private static final Logger log = LoggerFactory.getLogger(Migrator.class);

    /** Runs before a version's statements, in its transaction: a check that may refuse the data it would change. */
    @FunctionalInterface
    interface BeforeVersion {
        void check(Connection connection, String version) throws SQLException;
    }

    private final DataSource dataSource;
    private final TableNames tables;
    private final boolean postgres;
    private final SchemaFiles files;
    private final SchemaHistory history;

    Migrator(DataSource dataSource, TableNames tables, boolean postgres, SchemaFiles files) {
        this.dataSource = dataSource;
        this.tables = tables;
        this.postgres = postgres;
        this.files = files;
        this.history = new SchemaHistory(tables, files);
    }

    /** @return the history of this line */
    SchemaHistory history() {
        return history;
    }

    /**
     * @param before   runs before each version not applied yet
     * @param describe what the versions are applied to, for the log
     * @throws SQLException when the database fails
     */
    void migrate(BeforeVersion before, String describe) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(!postgres);
            try (Statement statement = connection.createStatement()) {
                if (postgres) {
                    try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                        lock.setLong(1, ("gyre-schema:" + tables.schemaHistory()).hashCode());
                        lock.execute();
                    }
                }
                Map<String, @Nullable String> applied = history.read(connection).orElse(Map.of());
                history.check(applied);
                history.prepare(connection);
                for (String version : files.versions()) {
                    if (applied.containsKey(version)) {
                        continue;
                    }
                    before.check(connection, version);
                    for (String sql : files.statements(version)) {
                        statement.execute(sql);
                    }
                    history.record(connection, version);
                    log.info("Applied Gyre schema {} to {}", version, describe);
                }
                if (postgres) {
                    connection.commit();
                }
            } catch (SQLException | RuntimeException e) {
                if (postgres) {
                    connection.rollback();
                }
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }
    }
}
