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
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies schema version 5 (tokens with a fencing epoch, and the dead-letter table) for the processing store, or
 * checks it is there. It records the version in the same schema history table as the event store's own
 * {@link SchemaManager}, under the same name and the same PostgreSQL advisory lock, so either may apply it and the
 * other then skips it. It is kept apart from {@code SchemaManager} for now because version 5 needs the dead-letter
 * table's name, which {@link TableNames} does not carry yet; folding it in needs that name there and the file name
 * in {@code SchemaManager}'s list. Internal: not part of Gyre's API.
 */
public final class ProcessingSchema {

    private static final Logger log = LoggerFactory.getLogger(ProcessingSchema.class);

    /** The version's file name, also its name in the schema history. */
    public static final String VERSION = "V5__processor_epochs_and_dead_letters.sql";

    private static final List<String> TOKEN_COLUMNS = List.of("processor_name", "segment", "commit_order", "position",
            "owner", "updated_at", "epoch");
    private static final List<String> DEAD_LETTER_COLUMNS = List.of("id", "processor_name", "segment", "event_id",
            "global_position", "aggregate_type", "aggregate_id", "sequence_number", "command_id", "event_type",
            "payload", "metadata", "occurred_at", "commit_order", "token_position", "cause", "attempts",
            "first_failed_at", "last_failed_at");

    private final DataSource dataSource;
    private final TableNames tables;
    private final String deadLetters;
    private final boolean postgres;
    private final String folder;

    /**
     * @param dataSource  the database
     * @param tables      the table names (tokens and schema history are used)
     * @param deadLetters the dead-letter table
     * @param postgres    true for PostgreSQL, false for H2
     * @param folder      the resource folder of the dialect's schema files
     */
    public ProcessingSchema(DataSource dataSource, TableNames tables, String deadLetters, boolean postgres,
                            String folder) {
        this.dataSource = dataSource;
        this.tables = tables;
        this.deadLetters = deadLetters;
        this.postgres = postgres;
        this.folder = folder;
    }

    /**
     * Applies version 5 unless the history says it was applied.
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
                boolean applied;
                try (PreparedStatement query = connection.prepareStatement("SELECT 1 FROM " + tables.schemaHistory()
                        + " WHERE version = ?")) {
                    query.setString(1, VERSION);
                    try (ResultSet rows = query.executeQuery()) {
                        applied = rows.next();
                    }
                }
                if (!applied) {
                    for (String sql : statements()) {
                        statement.execute(sql);
                    }
                    try (PreparedStatement record = connection.prepareStatement("INSERT INTO "
                            + tables.schemaHistory() + " (version, applied_at) VALUES (?, CURRENT_TIMESTAMP)")) {
                        record.setString(1, VERSION);
                        record.executeUpdate();
                    }
                    log.info("Applied event store schema {} to tables {} and {}", VERSION, tables.tokens(),
                            deadLetters);
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
     * Checks that the tokens table has its epoch and the dead-letter table exists with every column.
     *
     * @throws EventStoreSchemaException naming what is missing
     * @throws SQLException              when the database fails
     */
    public void validate() throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            DatabaseMetaData meta = connection.getMetaData();
            check(meta, tables.tokens(), TOKEN_COLUMNS, problems);
            check(meta, deadLetters, DEAD_LETTER_COLUMNS, problems);
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The processing schema is not usable: " + String.join("; ", problems)
                    + ". Let the store create it (createSchema(true)) or apply " + folder + VERSION
                    + " from gyre-eventstore-jdbc with the configured table names", null);
        }
    }

    private static void check(DatabaseMetaData meta, String table, List<String> required, List<String> problems)
            throws SQLException {
        String name = meta.storesUpperCaseIdentifiers() ? table.toUpperCase(Locale.ROOT) : table.toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        Set<String> columns = new TreeSet<>();
        try (ResultSet rows = meta.getColumns(null, dot < 0 ? null : name.substring(0, dot),
                dot < 0 ? name : name.substring(dot + 1), null)) {
            while (rows.next()) {
                columns.add(rows.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
            }
        }
        if (columns.isEmpty()) {
            problems.add("table " + table + " is missing");
            return;
        }
        List<String> missing = required.stream().filter(column -> !columns.contains(column)).toList();
        if (!missing.isEmpty()) {
            problems.add("table " + table + " lacks columns " + missing);
        }
    }

    private List<String> statements() {
        String text;
        try (InputStream in = ProcessingSchema.class.getClassLoader().getResourceAsStream(folder + VERSION)) {
            if (in == null) {
                throw new IllegalStateException("Schema file " + folder + VERSION + " is missing from the jar");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        text = text.replace("${dead_letters_name}", TableNames.unqualified(deadLetters))
                .replace("${dead_letters}", deadLetters)
                .replace("${tokens}", tables.tokens());
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                statements.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        return statements;
    }
}
