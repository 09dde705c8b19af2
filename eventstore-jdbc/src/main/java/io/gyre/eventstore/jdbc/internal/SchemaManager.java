package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.TableNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the event store's tables from the versioned SQL files shipped in the jar, recording each applied
 * version, or checks that tables made by someone else have every column and the unique key the store relies
 * on. Internal: not part of Gyre's API.
 */
public final class SchemaManager {

    private static final Logger log = LoggerFactory.getLogger(SchemaManager.class);

    /** The schema files, oldest first; a new version is a new file, never an edit of an old one. */
    private static final List<String> VERSIONS = List.of("V1__events_snapshots_tokens.sql",
            "V2__contiguity_checked_by_the_store.sql");

    private static final Map<String, List<String>> EVENTS_COLUMNS = Map.of(
            "postgres", List.of("global_position", "transaction_id", "aggregate_type", "aggregate_id",
                    "sequence_number", "event_id", "command_id", "event_type", "payload", "metadata", "occurred_at",
                    "command_key", "result_type", "result"),
            "h2", List.of("global_position", "aggregate_type", "aggregate_id", "sequence_number", "event_id",
                    "command_id", "event_type", "payload", "metadata", "occurred_at", "command_key", "result_type",
                    "result"));
    private static final List<String> SNAPSHOT_COLUMNS = List.of("aggregate_id", "aggregate_type", "sequence_number",
            "snapshot_type", "payload", "taken_at");
    private static final List<String> TOKEN_COLUMNS = List.of("processor_name", "segment", "commit_order", "position",
            "owner", "claimed_until", "updated_at");

    private final DataSource dataSource;
    private final TableNames tables;
    private final boolean postgres;
    private final String folder;

    /**
     * @param dataSource the database
     * @param tables     the table names
     * @param postgres   true for PostgreSQL, false for H2
     * @param folder     the resource folder of the dialect's schema files
     */
    public SchemaManager(DataSource dataSource, TableNames tables, boolean postgres, String folder) {
        this.dataSource = dataSource;
        this.tables = tables;
        this.postgres = postgres;
        this.folder = folder;
    }

    /**
     * Applies every schema version not applied yet, under a database-wide lock on PostgreSQL so that nodes
     * starting together do not race.
     *
     * @throws SQLException when the database fails
     */
    public void create() throws SQLException {
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
                statement.execute("CREATE TABLE IF NOT EXISTS " + tables.schemaHistory()
                        + " (version VARCHAR(200) PRIMARY KEY, applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
                Set<String> applied = new TreeSet<>();
                try (ResultSet rows = statement.executeQuery("SELECT version FROM " + tables.schemaHistory())) {
                    while (rows.next()) {
                        applied.add(rows.getString(1));
                    }
                }
                for (String version : VERSIONS) {
                    if (applied.contains(version)) {
                        continue;
                    }
                    for (String sql : statementsOf(version)) {
                        statement.execute(sql);
                    }
                    try (PreparedStatement record = connection.prepareStatement("INSERT INTO "
                            + tables.schemaHistory() + " (version, applied_at) VALUES (?, CURRENT_TIMESTAMP)")) {
                        record.setString(1, version);
                        record.executeUpdate();
                    }
                    log.info("Applied event store schema {} to tables {}", version, tables);
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

    /**
     * Checks that the tables exist with every column, and that the events table has its unique key on
     * (aggregate_id, sequence_number).
     *
     * @throws EventStoreSchemaException naming everything missing
     * @throws SQLException              when the database fails
     */
    public void validate() throws SQLException {
        Map<String, List<String>> required = new LinkedHashMap<>();
        required.put(tables.events(), EVENTS_COLUMNS.get(postgres ? "postgres" : "h2"));
        required.put(tables.snapshots(), SNAPSHOT_COLUMNS);
        required.put(tables.tokens(), TOKEN_COLUMNS);
        List<String> problems = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            DatabaseMetaData meta = connection.getMetaData();
            for (Map.Entry<String, List<String>> table : required.entrySet()) {
                Set<String> columns = columnsOf(meta, table.getKey());
                if (columns.isEmpty()) {
                    problems.add("table " + table.getKey() + " is missing");
                    continue;
                }
                List<String> missing = table.getValue().stream().filter(column -> !columns.contains(column)).toList();
                if (!missing.isEmpty()) {
                    problems.add("table " + table.getKey() + " lacks columns " + missing);
                }
            }
            if (problems.isEmpty() && !hasStreamKey(meta, tables.events())) {
                problems.add("table " + tables.events() + " has no unique key on (aggregate_id, sequence_number), "
                        + "without which two writers could store the same sequence number");
            }
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The event store schema is not usable: " + String.join("; ", problems)
                    + ". Let the store create it (createSchema(true)) or apply " + folder + VERSIONS
                    + " from gyre-eventstore-jdbc with the configured table names", null);
        }
    }

    private Set<String> columnsOf(DatabaseMetaData meta, String qualified) throws SQLException {
        Set<String> columns = new TreeSet<>();
        String[] parts = split(meta, qualified);
        try (ResultSet rows = meta.getColumns(null, parts[0], parts[1], null)) {
            while (rows.next()) {
                columns.add(rows.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
            }
        }
        return columns;
    }

    private boolean hasStreamKey(DatabaseMetaData meta, String qualified) throws SQLException {
        String[] parts = split(meta, qualified);
        Map<String, Set<String>> uniqueIndexes = new HashMap<>();
        try (ResultSet rows = meta.getIndexInfo(null, parts[0], parts[1], true, false)) {
            while (rows.next()) {
                String index = rows.getString("INDEX_NAME");
                String column = rows.getString("COLUMN_NAME");
                if (index != null && column != null) {
                    uniqueIndexes.computeIfAbsent(index, name -> new TreeSet<>()).add(column.toLowerCase(Locale.ROOT));
                }
            }
        }
        return uniqueIndexes.containsValue(new TreeSet<>(List.of("aggregate_id", "sequence_number")));
    }

    /** Splits a possibly schema-qualified name into the case the database stores unquoted identifiers in. */
    private static String[] split(DatabaseMetaData meta, String qualified) throws SQLException {
        String name = meta.storesUpperCaseIdentifiers() ? qualified.toUpperCase(Locale.ROOT)
                : qualified.toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        return dot < 0 ? new String[] {null, name} : new String[] {name.substring(0, dot), name.substring(dot + 1)};
    }

    private List<String> statementsOf(String version) {
        String text;
        try (InputStream in = SchemaManager.class.getClassLoader().getResourceAsStream(folder + version)) {
            if (in == null) {
                throw new IllegalStateException("Schema file " + folder + version + " is missing from the jar");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        text = text.replace("${events_name}", TableNames.unqualified(tables.events()))
                .replace("${events}", tables.events())
                .replace("${snapshots}", tables.snapshots())
                .replace("${tokens}", tables.tokens());
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inBody = false;
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (!inBody && (trimmed.startsWith("--") || trimmed.isEmpty())) {
                continue;
            }
            current.append(line).append('\n');
            // A dollar-quoted function body holds semicolons of its own.
            if ((line.length() - line.replace("$$", "").length()) / 2 % 2 == 1) {
                inBody = !inBody;
            }
            if (!inBody && trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                statements.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        return statements;
    }
}
