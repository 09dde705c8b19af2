package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
import io.gyre.command.CommandGateway;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What one command costs PostgreSQL, counted where it cannot be guessed: on the wire (round trips, transactions,
 * parses, executions, through {@link WireCounter}) and by the server itself ({@code pg_stat_statements}: which
 * statements, how often). A node sends Deposit commands to ledgers that are cached, or that it loads from the store
 * first (no cache), with and without snapshots, from one client and from eight. One client's counts are exact and
 * bounded here, so that a change that adds a statement, a transaction or a prepare to every command fails; the
 * table printed is the measurement behind the bounds.
 *
 * <p>Runs a PostgreSQL server of its own: {@code pg_stat_statements} must be preloaded when the server starts.
 */
class DatabaseWorkPerCommandTest {

    private static final int LEDGERS = 20;
    private static final int COMMANDS_PER_CLIENT = 200;
    private static final Offset<Double> SLACK = Offset.offset(0.02);

    private static EmbeddedPostgres server;
    private static WireCounter wire;
    private static HikariDataSource pool;
    private static HikariDataSource direct;
    private static JdbcEventStore store;
    private static int scenarios;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddedPostgres.builder().setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setServerConfig("pg_stat_statements.track", "all")
                .setServerConfig("pg_stat_statements.track_planning", "on").start();
        wire = new WireCounter(server.getPort());
        direct = pool("jdbc:postgresql://localhost:" + server.getPort() + "/postgres", 2);
        try (Connection connection = direct.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
        // As the benchmark pools: HikariCP's defaults, 8 clients plus two.
        pool = pool("jdbc:postgresql://localhost:" + wire.port() + "/postgres?sslmode=disable&gssEncMode=disable",
                10);
        store = JdbcEventStore.builder(pool).dialect(Dialect.POSTGRES).tableNames(TableNames.withPrefix("work_"))
                .createSchema(true).build();
    }

    private static HikariDataSource pool(String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("postgres");
        config.setMaximumPoolSize(size);
        return new HikariDataSource(config);
    }

    @AfterAll
    static void stop() throws Exception {
        if (store != null) {
            store.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (direct != null) {
            direct.close();
        }
        if (wire != null) {
            wire.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a_command_on_a_cached_aggregate_is_one_round_trip_and_one_transaction() throws Exception {
        Work one = measure("cached", 1, 1, builder -> builder);
        assertThat(one.perCommand(one.callsExceptNotifications())).as("the append, nothing else").isEqualTo(1.0);
        // Close to, not equal: a notification on its way when counting starts or ends is on the wire, not in the stats.
        assertThat(one.perCommand(one.counts.roundTrips() - one.notifications()))
                .as("one round trip and one transaction per command, besides notifications").isCloseTo(1.0, SLACK);
        assertThat(one.perCommand(one.counts.transactions() - one.notifications())).isCloseTo(1.0, SLACK);
        assertThat(one.counts.namedParses() + one.counts.unnamedParses()).as("statements prepared once").isZero();
        measure("cached", 8, 1, builder -> builder);
    }

    @Test
    void a_command_on_an_aggregate_loaded_from_its_events_adds_one_read() throws Exception {
        Work one = measure("miss, no snapshots", 1, 1, builder -> builder.cacheSize(0));
        assertThat(one.perCommand(one.callsExceptNotifications())).as("the read and the append").isEqualTo(2.0);
        assertThat(one.perCommand(one.counts.roundTrips() - one.notifications())).isCloseTo(2.0, SLACK);
        assertThat(one.counts.namedParses() + one.counts.unnamedParses()).as("statements prepared once").isZero();
        measure("miss, no snapshots", 8, 1, builder -> builder.cacheSize(0));
    }

    @Test
    void a_command_on_an_aggregate_loaded_with_snapshots_configured_but_none_taken_adds_one_read() throws Exception {
        Work one = measure("miss, snapshots on, none taken", 1, 1,
                builder -> builder.cacheSize(0).snapshots(store.snapshots()).snapshotEvery(Ledger.class, 1_000_000));
        assertThat(one.perCommand(one.callsExceptNotifications()))
                .as("the snapshot read with the events, and the append").isEqualTo(2.0);
        assertThat(one.perCommand(one.counts.roundTrips() - one.notifications())).isCloseTo(2.0, SLACK);
        measure("miss, snapshots on, none taken", 8, 1,
                builder -> builder.cacheSize(0).snapshots(store.snapshots()).snapshotEvery(Ledger.class, 1_000_000));
    }

    @Test
    void a_command_on_an_aggregate_loaded_from_a_snapshot() throws Exception {
        // Every 20 events: most loads find a snapshot and read the events after it.
        measure("miss, from a snapshot", 1, 30,
                builder -> builder.cacheSize(0).snapshots(store.snapshots()).snapshotEvery(Ledger.class, 20));
        measure("miss, from a snapshot", 8, 30,
                builder -> builder.cacheSize(0).snapshots(store.snapshots()).snapshotEvery(Ledger.class, 20));
    }

    /** The counts of one scenario and the statements the server ran, with their calls. */
    record Work(String name, int clients, long commands, WireCounter.Counts counts, Map<String, Calls> statements) {
        double perCommand(long count) {
            return (double) count / commands;
        }

        /** @return the announcer's notifications, which appends share at most 100 a second */
        long notifications() {
            return statements.entrySet().stream().filter(e -> e.getKey().contains("pg_notify"))
                    .mapToLong(e -> e.getValue().calls()).sum();
        }

        /** @return the statements run for the commands themselves */
        long callsExceptNotifications() {
            return statements.entrySet().stream().filter(e -> !e.getKey().contains("pg_notify"))
                    .mapToLong(e -> e.getValue().calls()).sum();
        }
    }

    /**
     * Opens the ledgers and gives each {@code depositsBefore} deposits through a node, then counts what the
     * measured deposits of another node (configured by {@code node}) make the server do.
     */
    private static Work measure(String name, int clients, int depositsBefore, UnaryOperator<Gyre.Builder> node)
            throws Exception {
        String prefix = "s" + (++scenarios) + "-";
        try (Gyre setUp = Gyre.builder().name("set-up").sharedEventStore(store).aggregate(Ledger.class).start()) {
            CommandGateway gateway = setUp.commandGateway();
            for (int i = 0; i < LEDGERS; i++) {
                gateway.sendAndWait(new Ledger.Open(prefix + i));
                for (int d = 0; d < depositsBefore; d++) {
                    gateway.sendAndWait(new Ledger.Deposit(prefix + i, 1));
                }
            }
        }
        try (Gyre measured = node.apply(Gyre.builder().name("measured").sharedEventStore(store)
                .aggregate(Ledger.class)).start()) {
            CommandGateway gateway = measured.commandGateway();
            // Warm: every ledger once (cached from then on when the node caches), every pooled connection used.
            run(gateway, prefix, clients, LEDGERS);
            resetStatements();
            WireCounter.Counts before = wire.counts();
            run(gateway, prefix, clients, COMMANDS_PER_CLIENT);
            WireCounter.Counts counts = wire.counts().minus(before);
            Work work = new Work(name, clients, (long) clients * COMMANDS_PER_CLIENT, counts, statements());
            print(work);
            return work;
        }
    }

    private static void run(CommandGateway gateway, String prefix, int clients, int commandsPerClient)
            throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < commandsPerClient; i++) {
                        // Each client its own ledgers in turn, as the benchmark's closed loop.
                        int ledger = (client + i * clients) % LEDGERS;
                        gateway.sendAndWait(new Ledger.Deposit(prefix + ledger, 1), Duration.ofSeconds(30));
                    }
                    return null;
                }));
            }
            for (Future<?> each : done) {
                each.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static void resetStatements() throws SQLException {
        try (Connection connection = direct.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("SELECT pg_stat_statements_reset()");
        }
    }

    /** A statement's executions and plans, and its mean time to plan and to run, in microseconds. */
    record Calls(long calls, long plans, double planMicros, double execMicros) {
    }

    private static Map<String, Calls> statements() throws SQLException {
        Map<String, Calls> calls = new LinkedHashMap<>();
        try (Connection connection = direct.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT query, calls, plans, mean_plan_time, mean_exec_time "
                     + "FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, "
                     + "query")) {
            while (rows.next()) {
                calls.put(rows.getString(1), new Calls(rows.getLong(2), rows.getLong(3), rows.getDouble(4) * 1000,
                        rows.getDouble(5) * 1000));
            }
        }
        return calls;
    }

    private static void print(Work work) {
        WireCounter.Counts c = work.counts;
        StringBuilder out = new StringBuilder();
        out.append(String.format("%n== %s, %d client(s), %d commands; per command: %.3f round trips, %.3f "
                        + "transactions, %.3f executions, %.3f parses (%.3f named, %.3f one-shot)%n", work.name,
                work.clients, work.commands, work.perCommand(c.roundTrips()), work.perCommand(c.transactions()),
                work.perCommand(c.executes()), work.perCommand(c.namedParses() + c.unnamedParses()),
                work.perCommand(c.namedParses()), work.perCommand(c.unnamedParses())));
        out.append(String.format("   %8s %8s %9s %9s  %s%n", "calls", "plans", "plan µs", "exec µs",
                "statement (per command; mean µs per call)"));
        work.statements.forEach((query, calls) -> out.append(String.format("   %8.3f %8.3f %9.1f %9.1f  %s%n",
                work.perCommand(calls.calls()), work.perCommand(calls.plans()), calls.planMicros(),
                calls.execMicros(), abbreviate(query))));
        System.out.print(out);
    }

    private static String abbreviate(String query) {
        String oneLine = query.replaceAll("\\s+", " ");
        return oneLine.length() <= 160 ? oneLine : oneLine.substring(0, 157) + "...";
    }
}
