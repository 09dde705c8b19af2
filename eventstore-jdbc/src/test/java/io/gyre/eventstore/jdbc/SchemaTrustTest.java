package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.conformance.Events;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store starts only on a schema it can trust: every table, column type, NULL-ability, default, unique key and
 * index it relies on is there, the schema versions applied are ones this Gyre ships, and their files have not
 * changed since. Otherwise start is refused with a message that names what is wrong, and nothing is changed.
 */
class SchemaTrustTest {

    private static final String V2 = "V2__contiguity_checked_by_the_store.sql";

    abstract static class OnDatabase {

        private TestDatabase database;
        private final List<AutoCloseable> resources = new ArrayList<>();

        abstract TestDatabase createDatabase();

        TestDatabase database() {
            if (database == null) {
                database = createDatabase();
            }
            return database;
        }

        TableNames tables() {
            return database().tables();
        }

        boolean postgres() {
            return database().postgres();
        }

        @AfterEach
        void close() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
            if (database != null) {
                database.close();
            }
        }

        JdbcEventStore start(boolean createSchema) {
            JdbcEventStore store = JdbcEventStore.builder(database().dataSource()).tableNames(tables())
                    .createSchema(createSchema).build();
            resources.add(store);
            return store;
        }

        void execute(String sql) throws SQLException {
            try (Connection connection = database().dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute(sql);
            }
        }

        /** Starting again, with or without creating the schema, is refused with a message containing all parts. */
        void assertStartRefused(String... parts) {
            for (boolean createSchema : new boolean[] {false, true}) {
                assertThatThrownBy(() -> start(createSchema)).as("createSchema(%s)", createSchema)
                        .isInstanceOf(EventStoreSchemaException.class)
                        .satisfies(refused -> assertThat(refused.getMessage()).contains(parts));
            }
        }

        @Test
        void a_schema_the_store_created_validates_and_records_every_version_with_its_checksum() throws SQLException {
            start(true).append(append("acc", ExpectedSequence.noStream(), "cmd", 1));
            start(false);
            Map<String, String> recorded = history();
            assertThat(recorded.keySet()).containsExactly("V1__events_snapshots_tokens.sql", V2,
                    "V3__commands_table_and_streams_keyed_by_type.sql", "V4__command_fingerprints.sql",
                    "V5__event_revisions_and_snapshot_versions.sql", "V6__log_epoch_in_the_global_log_order.sql");
            assertThat(recorded.values()).allSatisfy(checksum -> assertThat(checksum).matches("[0-9a-f]{64}"));
        }

        @Test
        void a_dropped_command_key_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().commands() + " DROP CONSTRAINT " + tables().commands() + "_key");
            assertStartRefused("table " + tables().commands() + " has no unique key on (aggregate_type, aggregate_id, "
                    + "command_id), without which two deliveries of one command could both be decided");
        }

        @Test
        void a_dropped_unique_key_on_event_ids_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " DROP CONSTRAINT " + tables().events() + "_event_id_key");
            assertStartRefused("table " + tables().events() + " has no unique key on (event_id)");
        }

        @Test
        void a_unique_key_whose_columns_are_in_another_order_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " DROP CONSTRAINT " + tables().events() + "_stream_key");
            execute("ALTER TABLE " + tables().events() + " ADD CONSTRAINT " + tables().events() + "_stream_key "
                    + "UNIQUE (sequence_number, aggregate_id, aggregate_type)");
            assertStartRefused("has no unique key on (aggregate_type, aggregate_id, sequence_number)");
        }

        @Test
        void a_changed_column_type_is_named_with_the_type_the_store_needs() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " ALTER COLUMN sequence_number "
                    + (postgres() ? "TYPE" : "SET DATA TYPE") + " INTEGER");
            assertStartRefused("column sequence_number of " + tables().events() + " is "
                    + (postgres() ? "int4" : "integer") + ", but the store needs " + (postgres() ? "int8" : "bigint"));
        }

        @Test
        void a_dropped_default_and_a_dropped_not_null_are_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().commands() + " ALTER COLUMN recorded_at DROP DEFAULT");
            execute("ALTER TABLE " + tables().events() + " ALTER COLUMN event_type " + (postgres() ? "DROP NOT NULL"
                    : "SET NULL"));
            assertStartRefused("column recorded_at of " + tables().commands() + " has no default",
                    "column event_type of " + tables().events() + " allows NULL");
        }

        @Test
        void a_column_that_must_not_be_null_and_that_the_store_never_writes_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " ADD COLUMN tenant VARCHAR(20) NOT NULL");
            assertStartRefused("column tenant of " + tables().events() + " is NOT NULL without a default");
        }

        @Test
        void a_schema_version_applied_from_a_file_edited_since_is_refused_naming_the_version() throws SQLException {
            start(true);
            String shipped = history().get(V2);
            execute("UPDATE " + tables().schemaHistory() + " SET checksum = '" + "0".repeat(64) + "' WHERE version = '"
                    + V2 + "'");
            assertStartRefused("version " + V2 + " was applied from a file with SHA-256 " + "0".repeat(64),
                    "the file shipped now has " + shipped, "the schema file was edited after it was applied");
        }

        @Test
        void a_database_migrated_by_a_newer_gyre_is_refused_and_left_unchanged() throws SQLException {
            start(true);
            execute("INSERT INTO " + tables().schemaHistory() + " (version, checksum, applied_at) VALUES "
                    + "('V99__from_a_newer_gyre.sql', NULL, CURRENT_TIMESTAMP)");
            Map<String, String> before = history();
            assertStartRefused("version V99__from_a_newer_gyre.sql is applied, which is newer than this Gyre, whose "
                    + "newest is V6__log_epoch_in_the_global_log_order.sql",
                    "the database was migrated by a newer Gyre");
            assertThat(history()).isEqualTo(before);
        }

        @Test
        void a_schema_version_this_gyre_does_not_ship_is_refused() throws SQLException {
            start(true);
            execute("INSERT INTO " + tables().schemaHistory() + " (version, checksum, applied_at) VALUES "
                    + "('V2__renamed_by_hand.sql', NULL, CURRENT_TIMESTAMP)");
            assertStartRefused("version V2__renamed_by_hand.sql is applied, which this Gyre does not ship");
        }

        @Test
        void a_store_keeps_working_on_a_schema_it_validated() {
            JdbcEventStore store = start(true);
            store.append(append("acc", ExpectedSequence.noStream(), "cmd-1", 1));
            JdbcEventStore validated = start(false);
            validated.append(append("acc", ExpectedSequence.exactly(0), "cmd-2", 2));
            assertThat(store.readStream(Events.stream("acc")).count()).isEqualTo(2);
        }

        /** @return the versions recorded, oldest first, with their checksums */
        Map<String, String> history() throws SQLException {
            try (Connection connection = database().dataSource().getConnection();
                 PreparedStatement query = connection.prepareStatement("SELECT version, checksum FROM "
                         + tables().schemaHistory() + " ORDER BY version");
                 ResultSet rows = query.executeQuery()) {
                Map<String, String> versions = new LinkedHashMap<>();
                while (rows.next()) {
                    versions.put(rows.getString(1), rows.getString(2));
                }
                return versions;
            }
        }
    }

    @Nested
    class OnH2 extends OnDatabase {
        @TempDir
        Path folder;

        @Override
        TestDatabase createDatabase() {
            return TestDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends OnDatabase {
        @Override
        TestDatabase createDatabase() {
            return TestDatabase.onPostgres();
        }

        @Test
        void a_dropped_index_of_the_global_log_is_named() throws SQLException {
            start(true);
            execute("DROP INDEX " + tables().events() + "_log_epoch_order");
            assertStartRefused("table " + tables().events() + " has no index on (log_epoch, transaction_id, "
                    + "global_position), without which every read of the global log scans the whole table");
        }

        @Test
        void an_index_left_invalid_by_a_cancelled_concurrent_build_is_named_with_how_to_repair_it() throws Exception {
            start(true);
            String index = tables().events() + "_log_epoch_order";
            execute("DROP INDEX " + index);
            // The README's way to build the index without blocking appends, cancelled while it waits for a writer:
            // PostgreSQL keeps the index, marked invalid, and the migration's CREATE INDEX IF NOT EXISTS keeps it.
            try (Connection writer = database().dataSource().getConnection();
                 Connection builder = database().dataSource().getConnection();
                 Statement write = writer.createStatement();
                 Statement build = builder.createStatement()) {
                writer.setAutoCommit(false);
                write.execute("LOCK TABLE " + tables().events() + " IN ROW EXCLUSIVE MODE");
                build.execute("SET statement_timeout = '300ms'");
                assertThatThrownBy(() -> build.execute("CREATE INDEX CONCURRENTLY " + index + " ON "
                        + tables().events() + " (log_epoch, transaction_id, global_position)"))
                        .isInstanceOf(SQLException.class);
                build.execute("RESET statement_timeout");
                writer.rollback();
            }

            assertStartRefused("index " + index + " of table " + tables().events() + " on (log_epoch, "
                    + "transaction_id, global_position) is invalid", "DROP INDEX " + index + " and build it again");

            execute("DROP INDEX " + index);
            execute("CREATE INDEX CONCURRENTLY " + index + " ON " + tables().events()
                    + " (log_epoch, transaction_id, global_position)");
            start(false);
        }

        @Test
        void a_log_epoch_column_without_a_whole_number_default_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " ALTER COLUMN log_epoch SET DEFAULT CAST(random() * 3 AS "
                    + "smallint)");
            assertStartRefused("column log_epoch of " + tables().events() + " has the default",
                    "needs the default a whole number (the current log epoch)");
        }

        @Test
        void a_global_log_column_without_its_transaction_default_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " ALTER COLUMN transaction_id DROP DEFAULT");
            assertStartRefused("column transaction_id of " + tables().events() + " has no default",
                    "needs the default pg_current_xact_id()");
        }

        @Test
        void jsonb_changed_to_text_is_named() throws SQLException {
            start(true);
            execute("ALTER TABLE " + tables().events() + " ALTER COLUMN payload TYPE text");
            assertStartRefused("column payload of " + tables().events() + " is text, but the store needs jsonb");
        }
    }
}
