package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The table that records which schema versions were applied to the database, each with the checksum of its file
 * ({@link SchemaFiles#checksum}), and the checks made against it at every start: a database that holds a version
 * this Gyre does not ship (migrated by a newer Gyre) is refused rather than written with code that does not know
 * its schema, and so is a database whose version was applied from a file that differs from the one shipped now
 * (a schema file edited after its release). Internal: not part of Gyre's API.
 *
 * <p>Versions applied before checksums were recorded get the checksum of the file shipped now, once, when the
 * store next creates its schema; there is nothing else to compare them with.
 */
final class SchemaHistory {

    private static final Logger log = LoggerFactory.getLogger(SchemaHistory.class);

    private final String table;
    private final SchemaFiles files;

    /**
     * @param tables the table names, of which the schema history's
     * @param files  the shipped schema files
     */
    SchemaHistory(TableNames tables, SchemaFiles files) {
        this.table = tables.schemaHistory();
        this.files = Objects.requireNonNull(files, "files");
    }

    /** @return the history table's name */
    String table() {
        return table;
    }

    /**
     * Creates the history table if it is missing, adds the checksum column to one made before checksums, and
     * records the shipped checksum of every version applied without one.
     *
     * @param connection a connection, in the transaction that applies the schema
     * @throws SQLException when the database fails
     */
    void prepare(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + table + " (version VARCHAR(200) PRIMARY KEY, "
                    + "checksum VARCHAR(64), applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
            statement.execute("ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS checksum VARCHAR(64)");
        }
        try (PreparedStatement fill = connection.prepareStatement("UPDATE " + table + " SET checksum = ? "
                + "WHERE version = ? AND checksum IS NULL")) {
            for (String version : files.versions()) {
                fill.setString(1, files.checksum(version));
                fill.setString(2, version);
                if (fill.executeUpdate() > 0) {
                    log.info("Recorded the checksum of event store schema {} in {}, applied before checksums were "
                            + "kept", version, table);
                }
            }
        }
    }

    /**
     * @param connection a connection
     * @return the versions applied, oldest first, each with its recorded checksum (null when none was recorded);
     *         empty when the history table does not exist
     * @throws SQLException when the database fails
     */
    Optional<Map<String, @Nullable String>> read(Connection connection) throws SQLException {
        Catalog catalog = new Catalog(connection);
        if (!catalog.exists(table)) {
            return Optional.empty();
        }
        boolean withChecksums = catalog.columns(table).containsKey("checksum");
        Map<String, @Nullable String> applied = new LinkedHashMap<>();
        try (Statement query = connection.createStatement();
             ResultSet rows = query.executeQuery("SELECT version" + (withChecksums ? ", checksum" : "") + " FROM "
                     + table + " ORDER BY applied_at, version")) {
            while (rows.next()) {
                applied.put(rows.getString(1), withChecksums ? rows.getString(2) : null);
            }
        }
        return Optional.of(applied);
    }

    /**
     * @param connection a connection, in the transaction that applies the schema
     * @param version    the version just applied
     * @throws SQLException when the database fails
     */
    void record(Connection connection, String version) throws SQLException {
        try (PreparedStatement record = connection.prepareStatement("INSERT INTO " + table
                + " (version, checksum, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)")) {
            record.setString(1, version);
            record.setString(2, files.checksum(version));
            record.executeUpdate();
        }
    }

    /**
     * @param applied the versions applied, with their checksums
     * @throws EventStoreSchemaException naming each version this Gyre does not ship and each whose file changed
     */
    void check(Map<String, @Nullable String> applied) {
        List<String> problems = new ArrayList<>();
        int newest = files.number(files.newest());
        for (Map.Entry<String, @Nullable String> each : applied.entrySet()) {
            String version = each.getKey();
            if (!files.ofThisLine(version) && SchemaFiles.ofAnyLine(version)) {
                continue; // the other line's, which it checks itself
            }
            if (!files.versions().contains(version)) {
                int number = files.number(version);
                problems.add(number > newest
                        ? "version " + version + " is applied, which is newer than this Gyre, whose newest is "
                        + files.newest() + ": the database was migrated by a newer Gyre. Run that version or a newer "
                        + "one, or restore a backup made before the upgrade"
                        : "version " + version + " is applied, which this Gyre does not ship (it ships "
                        + files.versions() + "): the database was migrated by another build of Gyre or by hand");
                continue;
            }
            String recorded = each.getValue();
            String shipped = files.checksum(version);
            if (recorded != null && !recorded.equalsIgnoreCase(shipped)) {
                problems.add("version " + version + " was applied from a file with SHA-256 " + recorded + ", but the "
                        + "file shipped now has " + shipped + ": the schema file was edited after it was applied. "
                        + "Released schema files never change (a change is a new version): restore the file as "
                        + "released");
            }
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The event store schema recorded in " + table + " cannot be used by "
                    + "this Gyre: " + String.join("; ", problems) + ". Nothing was changed", null);
        }
    }
}
