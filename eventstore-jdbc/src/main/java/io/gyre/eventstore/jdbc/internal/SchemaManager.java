package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Prepares the event store's schema at start. {@link #create()} applies the shipped schema files not applied yet
 * ({@link SchemaFiles}), recording each with its checksum ({@link SchemaHistory}); {@link #validate()} refuses a
 * database migrated by a newer Gyre or from an edited file, and then holds the tables to everything the store
 * relies on ({@link SchemaValidator}), so that a dropped key, a changed type or a missing index stops the start
 * with its name instead of corrupting data later. Internal: not part of Gyre's API.
 */
public final class SchemaManager {

    /** The version that keys streams by (type, id): it must not find one id's stream holding several types. */
    private static final String STREAMS_KEYED_BY_TYPE = "V3__commands_table_and_streams_keyed_by_type.sql";

    private final DataSource dataSource;
    private final TableNames tables;
    private final SchemaFiles files;
    private final Migrator migrator;
    private final SchemaHistory history;
    private final SchemaValidator validator;

    /**
     * @param dataSource the database
     * @param tables     the table names
     * @param postgres   true for PostgreSQL, false for H2
     * @param folder     the resource folder of the dialect's schema files
     */
    public SchemaManager(DataSource dataSource, TableNames tables, boolean postgres, String folder) {
        this.dataSource = dataSource;
        this.tables = tables;
        this.files = SchemaFiles.eventStore(folder, tables);
        this.migrator = new Migrator(dataSource, tables, postgres, files);
        this.history = migrator.history();
        this.validator = new SchemaValidator(ExpectedSchema.of(postgres, tables));
    }

    /**
     * Applies every schema version not applied yet, after checking that the versions already applied are ones this
     * Gyre ships, unchanged; on PostgreSQL in one transaction under a database-wide lock, so that nodes starting
     * together do not race and a failure leaves nothing half-done.
     *
     * @throws EventStoreSchemaException when the database holds a version this Gyre does not ship, or one whose
     *                                   file changed, or data a migration cannot carry over
     * @throws SQLException              when the database fails
     */
    public void create() throws SQLException {
        migrator.migrate((connection, version) -> {
            if (version.equals(STREAMS_KEYED_BY_TYPE)) {
                checkNoStreamHoldsSeveralTypes(connection);
            }
        }, "tables " + tables);
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
     * Checks the recorded schema versions, when the history table exists (a schema applied by hand may have none),
     * and then every table, column, key and index the store relies on.
     *
     * @throws EventStoreSchemaException naming every version, table, column, key or index at fault
     * @throws SQLException              when the database fails
     */
    public void validate() throws SQLException {
        List<String> problems;
        try (Connection connection = dataSource.getConnection()) {
            Optional<Map<String, @Nullable String>> applied = history.read(connection);
            if (applied.isPresent()) {
                history.check(applied.get());
            }
            problems = validator.problems(connection);
        }
        if (!problems.isEmpty()) {
            throw new EventStoreSchemaException("The event store schema is not usable: " + String.join("; ", problems)
                    + ". Let the store create it (createSchema(true)) or apply " + files.describe()
                    + " from gyre-eventstore-jdbc with the configured table names", null);
        }
    }
}
