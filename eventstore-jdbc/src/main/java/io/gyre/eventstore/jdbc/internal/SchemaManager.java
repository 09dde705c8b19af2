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
 * version, or checks that tables made by someone else have every column and the unique keys the store relies
 * on. Internal: not part of Gyre's API.
 */
public final class SchemaManager {

    private static final Logger log = LoggerFactory.getLogger(SchemaManager.class);

    /** The schema files, oldest first; a new version is a new file, never an edit of an old one. */
    private static final List<String> VERSIONS = List.of("V1__events_snapshots_tokens.sql",
            "V2__contiguity_checked_by_the_store.sql", "V3__commands_table_and_streams_keyed_by_type.sql",
            "V4__command_fingerprints.sql");
    /** The version that keys streams by (type, id): it must not find one id's stream holding several types. */
    private static final String STREAMS_KEYED_BY_TYPE = "V3__commands_table_and_streams_keyed_by_type.sql";

    private static final Map<String, List<String>> EVENTS_COLUMNS = Map.of(
            "postgres", List.of("global_position", "transaction_id", "aggregate_type", "aggregate_id",
                    "sequence_number", "event_id", "command_id", "event_type", "payload", "metadata", "occurred_at"),
            "h2", List.of("global_position", "aggregate_type", "aggregate_id", "sequence_number", "event_id",
                    "command_id", "event_type", "payload", "metadata", "occurred_at"));
    /** Columns of the events table up to version 2, which version 3 moved to the commands table. */
    private static final List<String> EVENTS_COLUMNS_BEFORE_V3 = List.of("command_key", "result_type", "result");
    private static final List<String> COMMAND_COLUMNS = List.of("aggregate_type", "aggregate_id", "command_id",
            "decided_at", "event_count", "outcome", "result_type", "result", "refusal_type", "refusal_message",
            "recorded_at", "fingerprint");
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
                    if (version.equals(STREAMS_KEYED_BY_TYPE)) {
                        checkNoStreamHoldsSeveralTypes(connection);
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
     * Version 3 keys streams by (type, id) where version 1 keyed them by id alone, so one id's stream could hold
     * events of several aggregate types (only through direct appends: a node refuses to create an aggregate whose
     * id already has events). Such a stream would become several streams with gaps; the migration refuses instead
     * and names them.
     */
    private void checkNoStreamHoldsSeveralTypes(Connection connection) throws SQLException {
        List<String> mixed = new ArrayList<>();
        try (Statement query = connection.createStatement();
             ResultSet rows = query.executeQuery("SELECT aggregate_id FROM " + tables.events()
                     + " GROUP BY aggregate_id HAVING COUNT(DISTINCT aggregate_type) > 1 ORDER BY aggregate_id"
                     + " FETCH FIRST 10 ROWS ONLY")) {
            while (rows.next()) {
                mixed.add(rows.getString(1));
            }
        }
        if (!mixed.isEmpty()) {
            throw new EventStoreSchemaException("Cannot apply event store schema " + STREAMS_KEYED_BY_TYPE + " to "
                    + tables.events() + ": the streams of aggregate ids " + mixed + (mixed.size() == 10 ? " (and "
                    + "maybe more)" : "") + " hold events of several aggregate types. Version 3 keys streams by "
                    + "(aggregate type, aggregate id), which would split each of them into streams with gaps; give "
                    + "those events ids of their own (or one type) and start the store again", null);
        }
    }

    /**
     * Checks that the tables exist with every column, and that the events, commands and snapshots tables have
     * their unique keys: (aggregate_type, aggregate_id, sequence_number) for the optimistic sequence check,
     * (aggregate_type, aggregate_id, command_id) for "the first decision on a command id is final".
     *
     * @throws EventStoreSchemaException naming everything missing
     * @throws SQLException              when the database fails
     */
    public void validate() throws SQLException {
        Map<String, List<String>> required = new LinkedHashMap<>();
        required.put(tables.events(), EVENTS_COLUMNS.get(postgres ? "postgres" : "h2"));
        required.put(tables.commands(), COMMAND_COLUMNS);
        required.put(tables.snapshots(), SNAPSHOT_COLUMNS);
        required.put(tables.tokens(), TOKEN_COLUMNS);
        List<String> problems = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            DatabaseMetaData meta = connection.getMetaData();
            Set<String> missingTables = new TreeSet<>();
            for (Map.Entry<String, List<String>> table : required.entrySet()) {
                Set<String> columns = columnsOf(meta, table.getKey());
                if (columns.isEmpty()) {
                    problems.add("table " + table.getKey() + " is missing");
                    missingTables.add(table.getKey());
                    continue;
                }
                List<String> missing = table.getValue().stream().filter(column -> !columns.contains(column)).toList();
                if (!missing.isEmpty()) {
                    problems.add("table " + table.getKey() + " lacks columns " + missing);
                }
                if (table.getKey().equals(tables.events())) {
                    List<String> old = EVENTS_COLUMNS_BEFORE_V3.stream().filter(columns::contains).toList();
                    if (!old.isEmpty()) {
                        problems.add("table " + tables.events() + " still has columns " + old + " of schema version "
                                + "2, which version 3 moved to " + tables.commands());
                    }
                }
            }
            checkUniqueKey(meta, tables.events(), List.of("aggregate_type", "aggregate_id", "sequence_number"),
                    "two writers could store the same sequence number", missingTables, problems);
            checkUniqueKey(meta, tables.commands(), List.of("aggregate_type", "aggregate_id", "command_id"),
                    "two deliveries of one command could both be decided", missingTables, problems);
            checkUniqueKey(meta, tables.snapshots(), List.of("aggregate_type", "aggregate_id"),
                    "an aggregate could have several latest snapshots", missingTables, problems);
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The event store schema is not usable: " + String.join("; ", problems)
                    + ". Let the store create it (createSchema(true)) or apply " + folder + VERSIONS
                    + " from gyre-eventstore-jdbc with the configured table names", null);
        }
    }

    private void checkUniqueKey(DatabaseMetaData meta, String table, List<String> columns, String withoutIt,
                                Set<String> missingTables, List<String> problems) throws SQLException {
        if (!missingTables.contains(table) && !hasUniqueKey(meta, table, columns)) {
            problems.add("table " + table + " has no unique key on (" + String.join(", ", columns) + "), without "
                    + "which " + withoutIt);
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

    private boolean hasUniqueKey(DatabaseMetaData meta, String qualified, List<String> columns) throws SQLException {
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
        return uniqueIndexes.containsValue(new TreeSet<>(columns));
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
                .replace("${commands_name}", TableNames.unqualified(tables.commands()))
                .replace("${commands}", tables.commands())
                .replace("${snapshots_name}", TableNames.unqualified(tables.snapshots()))
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
