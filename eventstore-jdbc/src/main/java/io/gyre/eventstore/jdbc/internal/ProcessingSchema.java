package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Applies the processing store's line of schema versions (tokens with a fencing epoch, the dead-letter table;
 * {@link SchemaFiles#processing}) or checks they are there. Its versions ({@code P1__…}) are recorded in the same
 * schema history table as the event store's ({@code V1__…}), with checksums, under the same PostgreSQL lock; each
 * line checks only its own versions, so a read model's own database can hold the processing tables without the
 * event store's. Internal: not part of Gyre's API.
 */
public final class ProcessingSchema {

    private static final List<String> TOKEN_COLUMNS = List.of("processor_name", "segment", "commit_order", "position",
            "owner", "updated_at", "epoch");
    private static final List<String> DEAD_LETTER_COLUMNS = List.of("id", "processor_name", "segment", "event_id",
            "global_position", "aggregate_type", "aggregate_id", "sequence_number", "command_id", "event_type",
            "payload", "metadata", "occurred_at", "commit_order", "token_position", "cause", "attempts",
            "first_failed_at", "last_failed_at", "event_revision");

    private final DataSource dataSource;
    private final TableNames tables;
    private final String deadLetters;
    private final SchemaFiles files;
    private final Migrator migrator;

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
        this.files = SchemaFiles.processing(folder, tables.tokens(), deadLetters);
        this.migrator = new Migrator(dataSource, tables, postgres, files);
    }

    /**
     * Applies the versions of the processing line not applied yet.
     *
     * @throws EventStoreSchemaException when the database holds a processing version this Gyre does not ship, or
     *                                   one whose file changed
     * @throws SQLException              when the database fails
     */
    public void create() throws SQLException {
        migrator.migrate((connection, version) -> { }, "tables " + tables.tokens() + " and " + deadLetters);
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
            Optional<Map<String, @Nullable String>> applied = migrator.history().read(connection);
            if (applied.isPresent()) {
                migrator.history().check(applied.get());
            }
            Catalog catalog = new Catalog(connection);
            check(catalog, tables.tokens(), TOKEN_COLUMNS, problems);
            check(catalog, deadLetters, DEAD_LETTER_COLUMNS, problems);
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The processing schema is not usable: " + String.join("; ", problems)
                    + ". Let the store create it (createSchema(true)) or apply " + files.describe()
                    + " from gyre-eventstore-jdbc with the configured table names", null);
        }
    }

    private static void check(Catalog catalog, String table, List<String> required, List<String> problems)
            throws SQLException {
        if (!catalog.exists(table)) {
            problems.add("table " + table + " is missing");
            return;
        }
        Set<String> columns = catalog.columns(table).keySet();
        List<String> missing = required.stream().filter(column -> !columns.contains(column)).toList();
        if (!missing.isEmpty()) {
            problems.add("table " + table + " lacks columns " + missing);
        }
    }
}
