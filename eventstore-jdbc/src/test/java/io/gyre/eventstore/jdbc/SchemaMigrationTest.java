package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.refusal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.serialization.SerializedValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database made by schema versions 1 and 2, with events in it, is migrated to versions 3 and 4 when a store opens
 * it: every stored command moves to the commands table with the range of its events and its result, the streams
 * read back unchanged, every version applied gets its file's checksum, and the store goes on appending,
 * deduplicating and refusing on the migrated data.
 */
class SchemaMigrationTest {

    /** What version 2 kept of a command: its events, on its first event's row its id and result. */
    record OldCommand(StreamId stream, long firstSequence, String commandId, int events,
                      @Nullable SerializedValue result) {
    }

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

        @AfterEach
        void close() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
            if (database != null) {
                database.close();
            }
        }

        private JdbcEventStore open(boolean createSchema) {
            JdbcEventStore store = JdbcEventStore.builder(database().dataSource()).tableNames(database().tables())
                    .createSchema(createSchema).build();
            resources.add(store);
            return store;
        }

        @Test
        void stored_commands_move_to_the_commands_table_streams_read_back_unchanged_and_appends_go_on()
                throws SQLException {
            applyVersionsOneAndTwo(database());
            SerializedValue five = new SerializedValue("java.lang.Long", "5");
            SerializedValue text = new SerializedValue("java.lang.String", "\"done\"");
            StreamId acc1 = StreamId.of("Account", "acc-1");
            StreamId acc2 = StreamId.of("Account", "acc-2");
            StreamId order = StreamId.of("Order", "ord-1");
            List<OldCommand> commands = List.of(
                    new OldCommand(acc1, 0, "cmd-a", 2, five),
                    new OldCommand(acc2, 0, "cmd-a", 1, text),
                    new OldCommand(acc1, 2, "cmd-b", 1, null),
                    new OldCommand(order, 0, "cmd-z", 3, null),
                    new OldCommand(acc1, 3, "cmd-c", 3, text),
                    new OldCommand(acc2, 1, "cmd-d", 1, null));
            for (OldCommand command : commands) {
                insertTheVersionTwoWay(database(), command);
            }
            Map<StreamId, List<StoredEvent>> before = new LinkedHashMap<>();
            for (StreamId stream : List.of(acc1, acc2, order)) {
                before.put(stream, readRaw(database(), stream));
            }

            JdbcEventStore store = open(true);

            assertThat(appliedVersions(database())).endsWith("V3__commands_table_and_streams_keyed_by_type.sql",
                    "V4__command_fingerprints.sql", "V5__event_revisions_and_snapshot_versions.sql",
                    "V6__log_epoch_in_the_global_log_order.sql");
            assertThat(versionsWithoutChecksum(database())).as("versions applied before checksums were kept get the "
                    + "checksum of the file shipped now").isZero();
            assertThat(columnsOf(database(), database().tables().events()))
                    .as("the command columns left the events table")
                    .doesNotContain("command_key", "result_type", "result");
            for (OldCommand command : commands) {
                assertThat(store.findCommand(command.stream(), command.commandId())).as(command.toString())
                        .contains(new CommandRecord(command.stream(), command.commandId(), command.firstSequence() - 1,
                                command.events(), CommandOutcome.Result.of(command.result())));
            }
            for (Map.Entry<StreamId, List<StoredEvent>> stream : before.entrySet()) {
                assertThat(store.readStream(stream.getKey()).toList()).as("stream %s", stream.getKey())
                        .containsExactlyElementsOf(stream.getValue());
            }
            assertThat(store.lastSequence(acc1)).isEqualTo(5);
            List<TrackedEvent> log = store.readAll(TrackingToken.START, 100);
            assertThat(log).extracting(tracked -> tracked.event().eventId()).containsExactlyElementsOf(
                    before.values().stream().flatMap(List::stream)
                            .sorted(java.util.Comparator.comparingLong(StoredEvent::position))
                            .map(StoredEvent::eventId).toList());

            assertThat(store.append(append(acc1, ExpectedSequence.exactly(5), "cmd-e", 1, 2)))
                    .isEqualTo(new AppendResult(6, 7));
            assertThatThrownBy(() -> store.append(append(acc1, ExpectedSequence.exactly(7), "cmd-c", 9)))
                    .as("a command stored before the migration is still known")
                    .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate -> assertThat(duplicate.stored())
                            .isEqualTo(new CommandRecord(acc1, "cmd-c", 2, 3, CommandOutcome.Result.of(text))));
            assertThatThrownBy(() -> store.append(append(acc2, ExpectedSequence.exactly(0), "cmd-f", 9)))
                    .isInstanceOfSatisfying(ConcurrencyConflictException.class,
                            conflict -> assertThat(conflict.actualSequence()).isEqualTo(1));
            assertThat(store.append(refusal(order, ExpectedSequence.exactly(2), "cmd-g", "closed")))
                    .isEqualTo(new AppendResult(3, 2));
            assertThat(store.append(append(StreamId.of("Invoice", "acc-1"), ExpectedSequence.noStream(), "cmd-a", 1)))
                    .as("a new type with an old id starts a stream of its own").isEqualTo(new AppendResult(0, 0));

            JdbcEventStore validated = open(false);
            assertThat(validated.findCommand(acc1, "cmd-e")).get().extracting(CommandRecord::eventCount)
                    .isEqualTo(2);
        }

        @Test
        void a_stream_that_holds_several_aggregate_types_stops_the_migration_naming_its_id_and_changes_nothing()
                throws SQLException {
            applyVersionsOneAndTwo(database());
            insertTheVersionTwoWay(database(), new OldCommand(StreamId.of("Account", "mixed"), 0, "cmd-1", 2, null));
            insertTheVersionTwoWay(database(), new OldCommand(StreamId.of("Order", "mixed"), 2, "cmd-2", 1, null));
            insertTheVersionTwoWay(database(), new OldCommand(StreamId.of("Order", "clean"), 0, "cmd-3", 1, null));

            assertThatThrownBy(() -> open(true))
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("[mixed]")
                    .hasMessageContaining("several aggregate types")
                    .hasMessageContaining("V3__");
            assertThat(columnsOf(database(), database().tables().events())).contains("command_key");
            assertThat(appliedVersions(database())).containsExactly("V1__events_snapshots_tokens.sql",
                    "V2__contiguity_checked_by_the_store.sql");
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
    }

    /**
     * Applies the shipped files of versions 1 and 2 as the store applied them before version 3 existed (the
     * files never change once released), and records them as applied.
     */
    private static void applyVersionsOneAndTwo(TestDatabase database) throws SQLException {
        TableNames tables = database.tables();
        String folder = "io/gyre/eventstore/jdbc/schema/" + (database.postgres() ? "postgres" : "h2") + "/";
        try (Connection connection = database.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + tables.schemaHistory()
                    + " (version VARCHAR(200) PRIMARY KEY, applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
            for (String version : List.of("V1__events_snapshots_tokens.sql", "V2__contiguity_checked_by_the_store.sql")) {
                String text = resource(folder + version)
                        .replace("${events_name}", TableNames.unqualified(tables.events()))
                        .replace("${events}", tables.events())
                        .replace("${snapshots}", tables.snapshots())
                        .replace("${tokens}", tables.tokens());
                StringBuilder current = new StringBuilder();
                for (String line : text.split("\n")) {
                    if (line.strip().startsWith("--") || line.isBlank()) {
                        continue;
                    }
                    current.append(line).append('\n');
                    if (line.strip().endsWith(";")) {
                        String sql = current.toString().strip();
                        statement.execute(sql.substring(0, sql.length() - 1));
                        current.setLength(0);
                    }
                }
                statement.execute("INSERT INTO " + tables.schemaHistory() + " (version, applied_at) VALUES ('"
                        + version + "', CURRENT_TIMESTAMP)");
            }
        }
    }

    private static String resource(String path) {
        try (InputStream in = SchemaMigrationTest.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Inserts a command's events as version 2 stored them: the command key and result on the first event. */
    private static void insertTheVersionTwoWay(TestDatabase database, OldCommand command) throws SQLException {
        String json = database.postgres() ? "CAST(? AS jsonb)" : "?";
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + database.tables().events()
                     + " (aggregate_type, aggregate_id, sequence_number, event_id, command_id, event_type, payload, "
                     + "metadata, occurred_at, command_key, result_type, result) VALUES (?, ?, ?, ?, ?, ?, " + json
                     + ", " + json + ", ?, ?, ?, ?)")) {
            for (int i = 0; i < command.events(); i++) {
                boolean first = i == 0;
                long sequence = command.firstSequence() + i;
                insert.setString(1, command.stream().aggregateType());
                insert.setString(2, command.stream().aggregateId());
                insert.setLong(3, sequence);
                insert.setString(4, command.stream() + "#" + sequence);
                insert.setString(5, command.commandId());
                insert.setString(6, "Happened");
                insert.setString(7, "{\"n\":" + sequence + "}");
                insert.setString(8, "{\"source\":\"v2\"}");
                insert.setObject(9, OffsetDateTime.ofInstant(Instant.parse("2026-01-02T03:04:05.678Z"), ZoneOffset.UTC));
                insert.setString(10, first ? command.commandId() : null);
                insert.setString(11, first && command.result() != null ? command.result().type() : null);
                insert.setString(12, first && command.result() != null ? command.result().data() : null);
                insert.executeUpdate();
            }
        }
    }

    /** Reads a stream with plain SQL, as it was stored before the migration. */
    private static List<StoredEvent> readRaw(TestDatabase database, StreamId stream) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT global_position, aggregate_type, "
                     + "aggregate_id, sequence_number, event_id, command_id, event_type, payload, metadata, occurred_at"
                     + " FROM " + database.tables().events() + " WHERE aggregate_type = ? AND aggregate_id = ?"
                     + " ORDER BY sequence_number")) {
            query.setString(1, stream.aggregateType());
            query.setString(2, stream.aggregateId());
            List<StoredEvent> events = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    events.add(new StoredEvent(rows.getLong(1), rows.getString(2), rows.getString(3), rows.getLong(4),
                            rows.getString(5), rows.getString(6), rows.getString(7), rows.getString(8),
                            rows.getString(9), rows.getObject(10, OffsetDateTime.class).toInstant()));
                }
            }
            return events;
        }
    }

    private static Set<String> columnsOf(TestDatabase database, String table) throws SQLException {
        try (Connection connection = database.dataSource().getConnection()) {
            String name = database.postgres() ? table.toLowerCase(Locale.ROOT) : table.toUpperCase(Locale.ROOT);
            Set<String> columns = new TreeSet<>();
            try (ResultSet rows = connection.getMetaData().getColumns(null, null, name, null)) {
                while (rows.next()) {
                    columns.add(rows.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
                }
            }
            return columns;
        }
    }

    private static long versionsWithoutChecksum(TestDatabase database) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet rows = query.executeQuery("SELECT COUNT(*) FROM " + database.tables().schemaHistory()
                     + " WHERE checksum IS NULL")) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static List<String> appliedVersions(TestDatabase database) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet rows = query.executeQuery("SELECT version FROM " + database.tables().schemaHistory()
                     + " ORDER BY version")) {
            List<String> versions = new ArrayList<>();
            while (rows.next()) {
                versions.add(rows.getString(1));
            }
            return versions;
        }
    }
}
