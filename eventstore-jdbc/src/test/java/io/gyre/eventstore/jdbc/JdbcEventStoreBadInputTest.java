package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.PayloadTooLargeException;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.conformance.Events;
import io.gyre.serialization.UnregisteredTypeException;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What users get wrong with the JDBC store gets a typed error naming the problem, and stores nothing. */
class JdbcEventStoreBadInputTest {

    @Test
    void table_names_that_are_not_plain_identifiers_are_refused_before_any_sql_runs() {
        for (String bad : List.of("events; DROP TABLE x", "a.b.c", "1events", "ev-ents", "\"quoted\"", "",
                "a".repeat(49))) {
            assertThatThrownBy(() -> new TableNames(bad, "c", "s", "t", "h")).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
        assertThat(new TableNames("bank.events", "bank.commands", "bank.snapshots", "bank.tokens", "bank.history")
                .commands()).isEqualTo("bank.commands");
        assertThatThrownBy(() -> new TableNames("e", "bad name", "s", "t", "h"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("for commands")
                .hasMessageContaining("'bad name'");
    }

    /** A new user's slip: the PostgreSQL factory given an H2 data source (it failed on an H2 "function not found"). */
    @Test
    void the_postgres_factory_given_an_h2_data_source_says_so() {
        org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
        h2.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");

        assertThatThrownBy(() -> JdbcEventStore.postgres(h2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("set up for POSTGRES")
                .hasMessageContaining("the data source is H2")
                .hasMessageContaining("use JdbcEventStore.builder(dataSource)");
    }

    @Test
    void builder_settings_are_checked_at_once() {
        JdbcEventStore.Builder builder = JdbcEventStore.builder(new org.h2.jdbcx.JdbcDataSource());
        assertThatThrownBy(() -> builder.readBatchSize(0)).hasMessage("readBatchSize must be between 1 and 100000, "
                + "but was 0");
        assertThatThrownBy(() -> builder.maxEventBytes(10)).hasMessageContaining("but was 10");
        assertThatThrownBy(() -> builder.queryTimeout(java.time.Duration.ZERO)).hasMessageContaining("PT0S");
        assertThatThrownBy(() -> builder.stallThreshold(java.time.Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stallThreshold")
                .hasMessageContaining("PT0S");
        for (int bad : new int[] {0, -1, 1_001}) {
            assertThatThrownBy(() -> builder.maxAppendsPerTransaction(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("maxAppendsPerTransaction must be between 1 and 1000, but was " + bad);
            assertThatThrownBy(() -> builder.appendTransactions(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("appendTransactions must be between 1 and 1000, but was " + bad);
        }
    }

    abstract static class OnDatabase {

        private final List<Runnable> cleanups = new java.util.ArrayList<>();

        abstract DataSource dataSource();

        void onClose(Runnable cleanup) {
            cleanups.add(cleanup);
        }

        @AfterEach
        void cleanUp() {
            for (int i = cleanups.size() - 1; i >= 0; i--) {
                cleanups.get(i).run();
            }
        }

        JdbcEventStore create(TableNames tables) {
            JdbcEventStore store = JdbcEventStore.builder(dataSource()).tableNames(tables).createSchema(true)
                    .maxEventBytes(2048).build();
            onClose(() -> {
                store.close();
                JdbcFixtures.drop(dataSource(), tables);
            });
            return store;
        }

        void execute(String sql) throws SQLException {
            try (Connection connection = dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute(sql);
            }
        }

        @Test
        void a_waiting_caller_s_append_with_no_time_left_or_no_request_fails_with_a_typed_error_and_stores_nothing()
                throws Exception {
            JdbcEventStore store = create(JdbcFixtures.randomTables());
            AppendRequest request = append("a", ExpectedSequence.noStream(), "c-1", 1);
            for (java.time.Duration bad : new java.time.Duration[] {java.time.Duration.ZERO,
                    java.time.Duration.ofMillis(-5), null}) {
                assertThatThrownBy(() -> store.appendWithin(request, bad).join()).as(String.valueOf(bad))
                        .hasCauseInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("timeLeft must be more than zero");
            }
            assertThatThrownBy(() -> store.appendWithin(null, java.time.Duration.ofSeconds(1)).join())
                    .hasCauseInstanceOf(NullPointerException.class).hasMessageContaining("request");
            assertThat(store.lastSequence(Events.stream("a"))).isEqualTo(-1);

            assertThat(store.appendWithin(request, java.time.Duration.ofSeconds(5)).get(10,
                    java.util.concurrent.TimeUnit.SECONDS).lastSequence()).isZero();
            assertThat(store.lastSequence(Events.stream("a"))).isZero();
        }

        @Test
        void missing_tables_are_named_when_the_schema_is_not_created() {
            TableNames tables = JdbcFixtures.randomTables();
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("table " + tables.events() + " is missing")
                    .hasMessageContaining("table " + tables.commands() + " is missing")
                    .hasMessageContaining("table " + tables.tokens() + " is missing")
                    .hasMessageContaining("createSchema(true)");
        }

        @Test
        void a_missing_column_is_named() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            execute("ALTER TABLE " + tables.events() + " DROP COLUMN metadata");
            execute("ALTER TABLE " + tables.commands() + " DROP COLUMN recorded_at");
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("table " + tables.events() + " lacks columns [metadata]")
                    .hasMessageContaining("table " + tables.commands() + " lacks columns [recorded_at]");
        }

        @Test
        void a_missing_commands_table_is_named_with_the_schema_version_that_makes_it() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            execute("DROP TABLE " + tables.commands());
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("table " + tables.commands() + " is missing")
                    .hasMessageContaining("V3__commands_table_and_streams_keyed_by_type.sql");
        }

        @Test
        void a_missing_unique_key_on_type_id_and_sequence_is_refused() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            execute("ALTER TABLE " + tables.events() + " DROP CONSTRAINT " + tables.events() + "_stream_key");
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("table " + tables.events() + " has no unique key on (aggregate_type, "
                            + "aggregate_id, sequence_number)");
        }

        @Test
        void a_stream_key_on_the_id_alone_is_refused() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            execute("ALTER TABLE " + tables.events() + " DROP CONSTRAINT " + tables.events() + "_stream_key");
            execute("ALTER TABLE " + tables.events() + " ADD CONSTRAINT " + tables.events() + "_stream_key UNIQUE "
                    + "(aggregate_id, sequence_number)");
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("no unique key on (aggregate_type, aggregate_id, sequence_number)");
        }

        @Test
        void a_missing_command_key_is_refused() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            execute("ALTER TABLE " + tables.commands() + " DROP CONSTRAINT " + tables.commands() + "_key");
            assertThatThrownBy(() -> JdbcEventStore.builder(dataSource()).tableNames(tables).build())
                    .isInstanceOf(EventStoreSchemaException.class)
                    .hasMessageContaining("table " + tables.commands() + " has no unique key on (aggregate_type, "
                            + "aggregate_id, command_id), without which two deliveries of one command could both "
                            + "be decided");
        }

        @Test
        void a_command_row_that_is_neither_a_result_nor_a_refusal_is_refused_naming_the_command() throws SQLException {
            TableNames tables = JdbcFixtures.randomTables();
            JdbcEventStore store = create(tables);
            String insert = "INSERT INTO " + tables.commands() + " (aggregate_type, aggregate_id, command_id, "
                    + "decided_at, event_count, outcome, refusal_type) VALUES ('Conformance', 'acc', ";
            execute(insert + "'cmd-no-message', -1, 0, 'refusal', 'com.example.Refused')");
            execute(insert + "'cmd-unknown', -1, 0, 'maybe', NULL)");
            for (String commandId : List.of("cmd-no-message", "cmd-unknown")) {
                assertThatThrownBy(() -> store.findCommand(Events.stream("acc"), commandId)).as(commandId)
                        .isInstanceOf(EventStoreSchemaException.class)
                        .hasMessageContaining("Command " + commandId + " of Conformance 'acc'")
                        .hasMessageContaining("neither a result nor a refusal")
                        .hasMessageContaining(tables.commands());
            }
        }

        @Test
        void creating_the_schema_twice_is_harmless() {
            TableNames tables = JdbcFixtures.randomTables();
            JdbcEventStore first = create(tables);
            first.append(append("a", ExpectedSequence.noStream(), "cmd", 1));
            JdbcEventStore second = JdbcEventStore.builder(dataSource()).tableNames(tables).createSchema(true).build();
            assertThat(second.lastSequence(Events.stream("a"))).isZero();
            assertThat(second.findCommand(Events.stream("a"), "cmd")).isPresent();
        }

        @Test
        void an_event_over_the_size_limit_is_refused_naming_sizes_and_nothing_is_stored() {
            JdbcEventStore store = create(JdbcFixtures.randomTables());
            String big = "{\"text\":\"" + "é".repeat(1100) + "\"}";
            AppendRequest request = AppendRequest.events(Events.stream("big"), ExpectedSequence.noStream(), "cmd",
                    List.of(Events.event(1), new EventData("e-big", "Big", big, "{}", Events.WHEN)));
            assertThatThrownBy(() -> store.append(request))
                    .isInstanceOfSatisfying(PayloadTooLargeException.class, e -> {
                        assertThat(e.limit()).isEqualTo(2048);
                        assertThat(e.size()).isEqualTo(big.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 2);
                    })
                    .hasMessageContaining("Big").hasMessageContaining("'big'");
            assertThat(store.lastSequence(Events.stream("big"))).isEqualTo(-1);
            store.append(AppendRequest.events(Events.stream("big"), ExpectedSequence.noStream(), "cmd",
                    List.of(new EventData("e-ok", "Small", "{\"text\":\"" + "é".repeat(900) + "\"}", "{}",
                            Events.WHEN))));
        }

        @Test
        void an_event_id_too_long_for_its_unique_index_is_refused_at_once_as_non_transient_and_nothing_is_stored() {
            TableNames tables = JdbcFixtures.randomTables();
            create(tables);
            java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            JdbcEventStore store = JdbcEventStore.builder(JdbcTestDataSources.counting(dataSource(), connections))
                    .tableNames(tables).build();
            String longId = "e".repeat(12_000);
            AppendRequest request = AppendRequest.events(Events.stream("long-id"), ExpectedSequence.noStream(), "cmd",
                    List.of(new EventData(longId, "Happened", "{}", "{}", Events.WHEN)));
            int before = connections.get();
            assertThatThrownBy(() -> store.append(request))
                    .isInstanceOf(EventRejectedException.class)
                    .hasMessageContaining("12000 characters").hasMessageContaining("255")
                    .hasMessageContaining("'long-id'")
                    .satisfies(e -> assertThat(GyreNonTransientException.isCauseOf(e)).isTrue());
            assertThat(connections.get()).as("connections taken for the refused append").isEqualTo(before);
            assertThat(store.lastSequence(Events.stream("long-id"))).isEqualTo(-1);
        }

        @Test
        void an_oversized_payload_or_aggregate_id_sent_through_a_node_is_refused_at_once_and_never_retried() {
            TableNames tables = JdbcFixtures.randomTables();
            JdbcEventStore store = create(tables);
            java.util.concurrent.atomic.AtomicInteger appends = new java.util.concurrent.atomic.AtomicInteger();
            io.gyre.eventstore.EventStore counted = new io.gyre.eventstore.ForwardingEventStore(store) {
                @Override
                public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
                    return appendOnCallingThread(request); // the fault below blocks or fails the caller
                }

                @Override
                public io.gyre.eventstore.AppendResult append(AppendRequest request) {
                    appends.incrementAndGet();
                    return super.append(request);
                }
            };
            try (Gyre node = Gyre.builder().sharedEventStore(counted).aggregate(Notebook.class).start()) {
                java.time.Duration patient = java.time.Duration.ofMinutes(1);
                assertThatThrownBy(() -> node.commandGateway().sendAndWait(
                        new Notebook.Write("big", "x".repeat(5_000)), patient))
                        .satisfies(e -> assertThat(GyreNonTransientException.isCauseOf(e)).as("non-transient: %s", e)
                                .isTrue())
                        .satisfies(e -> assertThat(rootOf(e)).isInstanceOf(PayloadTooLargeException.class));
                assertThat(appends.get()).as("appends tried for the oversized payload: one, never retried")
                        .isEqualTo(1);

                assertThatThrownBy(() -> node.commandGateway().sendAndWait(
                        new Notebook.Write("i".repeat(300), "small"), patient))
                        .satisfies(e -> assertThat(GyreNonTransientException.isCauseOf(e)).as("non-transient: %s", e)
                                .isTrue())
                        .satisfies(e -> assertThat(rootOf(e)).hasMessageContaining("at most 255"));
                assertThat(appends.get()).as("the oversized id never reaches the store").isEqualTo(1);

                node.commandGateway().sendAndWait(new Notebook.Write("small", "fits"), patient);
                assertThat(store.lastSequence(StreamId.of("notebook", "small"))).isZero();
                assertThat(store.lastSequence(StreamId.of("notebook", "big"))).isEqualTo(-1);
            }
        }

        @Test
        void a_duplicate_event_id_is_rejected_not_mistaken_for_a_conflict() {
            JdbcEventStore store = create(JdbcFixtures.randomTables());
            EventData event = Events.event(1);
            store.append(AppendRequest.events(Events.stream("a"), ExpectedSequence.noStream(), "cmd", List.of(event)));
            assertThatThrownBy(() -> store.append(AppendRequest.events(Events.stream("b"), ExpectedSequence.noStream(),
                    "cmd-2", List.of(event))))
                    .isInstanceOf(EventRejectedException.class)
                    .hasMessageContaining("event id");
            assertThat(store.lastSequence(Events.stream("b"))).isEqualTo(-1);
        }

        @Test
        void an_unknown_event_type_on_read_names_the_type_and_the_aggregate_and_other_aggregates_keep_working() {
            TableNames tables = JdbcFixtures.randomTables();
            JdbcEventStore store = create(tables);
            try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
                node.commandGateway().sendAndWait(new CreateCounter("healthy"));
                store.append(AppendRequest.events(StreamId.of("Counter", "haunted"), ExpectedSequence.noStream(),
                        "cmd-ghost",
                        List.of(new EventData("e-ghost", "Ghost", "{}", "{}", Events.WHEN))));
                assertThatThrownBy(() -> node.commandGateway().sendAndWait(new Add("haunted", 1)))
                        .isInstanceOf(UnregisteredTypeException.class)
                        .hasMessageContaining("'Ghost'")
                        .hasMessageContaining("'haunted'");
                assertThat(store.lastSequence(StreamId.of("Counter", "haunted"))).isZero();
                assertThat(node.commandGateway().<Long>sendAndWait(new Add("healthy", 5))).isEqualTo(5);
            }
        }
    }

    private static Throwable rootOf(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    @Nested
    class OnH2 extends OnDatabase {
        @TempDir
        Path folder;
        private org.h2.jdbcx.JdbcConnectionPool pool;

        @Override
        DataSource dataSource() {
            if (pool == null) {
                pool = org.h2.jdbcx.JdbcConnectionPool.create("jdbc:h2:file:"
                        + folder.resolve("bad-" + UUID.randomUUID()).toAbsolutePath(), "sa", "");
                onClose(pool::dispose);
            }
            return pool;
        }
    }

    @Nested
    class OnPostgres extends OnDatabase {
        @Override
        DataSource dataSource() {
            return PostgresServer.get().dataSource();
        }

        @Test
        void json_the_database_cannot_store_is_rejected_as_non_transient_and_nothing_is_stored() {
            JdbcEventStore store = create(JdbcFixtures.randomTables());
            for (String payload : List.of("{not json", "{\"nul\":\"\\u0000\"}")) {
                AppendRequest request = AppendRequest.events(Events.stream("bad-json"), ExpectedSequence.noStream(),
                        "cmd", List.of(Events.event(1), new EventData(UUID.randomUUID().toString(), "Bad", payload,
                        "{}", Events.WHEN)));
                assertThatThrownBy(() -> store.append(request)).as(payload)
                        .isInstanceOf(EventRejectedException.class)
                        .hasMessageContaining("'bad-json'")
                        .satisfies(e -> assertThat(GyreNonTransientException.isCauseOf(e)).isTrue());
            }
            assertThat(store.lastSequence(Events.stream("bad-json"))).isEqualTo(-1);
        }
    }
}
