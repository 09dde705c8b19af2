package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackingToken;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The processing schema (token epochs, dead letters): applied once and recorded next to the event store's versions, on a
 * database with events as on a read model's own database without any, and checked when not created.
 */
class ProcessingSchemaTest {

    abstract static class OnDatabase {

        ProcessingDatabase database;

        abstract ProcessingDatabase open();

        @AfterEach
        void close() {
            if (database != null) {
                database.close();
            }
        }

        private List<String> history() throws SQLException {
            List<String> versions = new ArrayList<>();
            try (Connection connection = database.dataSource().getConnection();
                 Statement query = connection.createStatement();
                 ResultSet rows = query.executeQuery("SELECT version FROM " + database.tables().schemaHistory()
                         + " ORDER BY version")) {
                while (rows.next()) {
                    versions.add(rows.getString(1));
                }
            }
            return versions;
        }

        @Test
        void the_processing_schema_is_applied_once_after_the_event_stores_versions_and_keeps_the_tokens() throws Exception {
            database = open();
            JdbcEventStore store = database.eventStore();
            store.append(append("a", ExpectedSequence.noStream(), "cmd-1", 1));
            JdbcProcessingStore first = database.processingStore();
            first.initialize("p", 2);
            first.claim("p", 1, "node-a", 3);
            first.update("p", 1, "node-a", 3, TrackingToken.at(1));

            JdbcProcessingStore again = database.processingStore();
            JdbcEventStore reopened = database.eventStore();

            assertThat(history()).contains("V1__events_snapshots_tokens.sql",
                    "V3__commands_table_and_streams_keyed_by_type.sql", "P1__processor_epochs_and_dead_letters.sql");
            assertThat(history()).filteredOn(version -> version.startsWith("P1")).hasSize(1);
            assertThat(again.tokens("p").get(1).token()).isEqualTo(TrackingToken.at(1));
            assertThat(again.tokens("p").get(1).epoch()).isEqualTo(3);
            assertThat(reopened.readAll(TrackingToken.START, 10)).hasSize(1);
            store.close();
            reopened.close();
        }

        @Test
        void a_read_models_own_database_without_events_gets_the_tokens_table_and_then_takes_the_event_store_too()
                throws Exception {
            database = open();
            JdbcProcessingStore readModel = database.processingStore();
            readModel.initialize("p", 1);

            JdbcEventStore store = database.eventStore();
            store.append(append("a", ExpectedSequence.noStream(), "cmd-1", 1));

            assertThat(readModel.tokens("p")).hasSize(1);
            assertThat(history()).contains("P1__processor_epochs_and_dead_letters.sql",
                    "V3__commands_table_and_streams_keyed_by_type.sql");
            store.close();
        }

        @Test
        void each_line_refuses_only_its_own_newer_versions() throws Exception {
            database = open();
            database.processingStore();
            database.eventStore().close();
            try (Connection connection = database.dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("INSERT INTO " + database.tables().schemaHistory() + " (version, checksum, "
                        + "applied_at) VALUES ('P99__from_a_newer_gyre.sql', 'abc', CURRENT_TIMESTAMP)");
            }

            assertThatThrownBy(database::processingStore)
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("P99__from_a_newer_gyre.sql")
                    .hasMessageContaining("newer than this Gyre");
            JdbcEventStore store = database.eventStore();
            assertThat(store.readAll(TrackingToken.START, 10)).isEmpty();
            store.close();

            try (Connection connection = database.dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("INSERT INTO " + database.tables().schemaHistory() + " (version, checksum, "
                        + "applied_at) VALUES ('V99__from_a_newer_gyre.sql', 'abc', CURRENT_TIMESTAMP)");
            }
            assertThatThrownBy(database::eventStore)
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("V99__from_a_newer_gyre.sql");
        }

        @Test
        void without_schema_creation_missing_tables_are_named_with_the_fix() {
            database = open();

            assertThatThrownBy(() -> JdbcProcessingStore.builder(database.dataSource())
                    .tableNames(database.tables()).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining(database.tables().tokens() + " is missing")
                    .hasMessageContaining(database.deadLetterTable() + " is missing")
                    .hasMessageContaining("P1__processor_epochs_and_dead_letters.sql");
        }

        @Test
        void a_bad_dead_letter_table_name_is_refused_naming_it() {
            database = open();

            assertThatThrownBy(() -> JdbcProcessingStore.builder(database.dataSource()).deadLetterTable("dead letters"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'dead letters'");
        }
    }

    @Nested
    class OnH2 extends OnDatabase {
        @TempDir
        Path folder;

        @Override
        ProcessingDatabase open() {
            return ProcessingDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends OnDatabase {
        @Override
        ProcessingDatabase open() {
            return ProcessingDatabase.onPostgres();
        }
    }
}
