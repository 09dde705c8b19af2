package io.gyre.examples.bench;

import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * What it costs to let each append of a shared transaction fail alone, measured in plain SQL on the store's tables:
 * the question behind the JDBC store's group commit. Each thread writes transactions of {@code group} single-event
 * appends, each append one statement that stores its command row and its event only if the stream's last event is
 * still the one it expects (the store's own shape). Three ways, in alternating rounds:
 * <ul>
 *   <li><b>row counts</b>: the group's statements go in one JDBC batch; an append that may not be stored inserts
 *       nothing, which its update count tells, and nothing fails;</li>
 *   <li><b>savepoints</b>: a savepoint before each append and its release after, so that any error could be rolled
 *       back alone (on PostgreSQL each is a round trip and a subtransaction);</li>
 *   <li><b>alone</b>: every append its own transaction, the reference.</li>
 * </ul>
 * On H2 an append is two statements (command row, then event), as the store writes it there.
 *
 * <p>Run: {@code java -cp ... io.gyre.examples.bench.GroupTransactionBenchmark [seconds rounds threads group]}
 * (defaults 2 s, 5 rounds, 8 threads, groups of 64); {@code -Dbench.db=h2}, {@code postgres} or {@code durable}
 * runs one database only.
 */
public final class GroupTransactionBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\"}";
    private static final int STREAMS_PER_THREAD = 640;

    private GroupTransactionBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, threads, appends per transaction
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int group = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        String only = System.getProperty("bench.db", "all");
        System.out.printf("Group transactions: %d threads, %d appends per transaction, %.1f s per round, median of %d "
                + "rounds, %d processors%n%n", threads, group, seconds, rounds,
                Runtime.getRuntime().availableProcessors());
        System.out.printf("  %-24s %14s %14s %14s %10s%n", "database", "row counts/s", "savepoints/s", "alone/s",
                "sp / rc");
        try (Databases databases = new Databases()) {
            if (only.equals("all") || only.equals("h2")) {
                run("H2 file", databases.h2(threads + 2), Dialect.H2, seconds, rounds, threads, group);
            }
            if (only.equals("all") || only.equals("postgres")) {
                run("PostgreSQL, fsync off", databases.postgres(threads + 2, false), Dialect.POSTGRES, seconds,
                        rounds, threads, group);
            }
            if (only.equals("all") || only.equals("durable")) {
                run("PostgreSQL, durable", databases.postgres(threads + 2, true), Dialect.POSTGRES, seconds, rounds,
                        threads, group);
            }
        }
    }

    private static void run(String name, DataSource dataSource, Dialect dialect, double seconds, int rounds,
                            int threads, int group) throws Exception {
        TableNames tables = TableNames.withPrefix("grp_");
        JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(tables).createSchema(true).build();
        Sql sql = new Sql(tables, dialect == Dialect.POSTGRES);
        long[][] heads = new long[threads][STREAMS_PER_THREAD];
        for (long[] each : heads) {
            java.util.Arrays.fill(each, -1);
        }
        String[] ways = {"row counts", "savepoints", "alone"};
        double[][] results = new double[ways.length][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < ways.length; i++) {
                int way = (round + i) % ways.length;
                results[way][round] = appendsPerSecond(threads, seconds, (thread, counter) -> {
                    try (Connection connection = dataSource.getConnection()) {
                        write(connection, sql, way, thread, heads[thread], counter, group);
                    }
                });
            }
        }
        System.out.printf("  %-24s %14.0f %14.0f %14.0f %9.2fx%n", name, Medians.of(results[0]),
                Medians.of(results[1]), Medians.of(results[2]), Medians.ofRatios(results[1], results[0]));
    }

    /** Writes one group of appends, each to the next of the thread's streams, the chosen way. */
    private static void write(Connection connection, Sql sql, int way, int thread, long[] heads, int[] counter,
                              int group) throws SQLException {
        List<Integer> streams = new ArrayList<>(group);
        for (int i = 0; i < group; i++) {
            streams.add(counter[0]++ % heads.length);
        }
        if (way == 2) {
            for (int stream : streams) {
                // On PostgreSQL one statement with auto-commit; on H2 two statements in a transaction.
                connection.setAutoCommit(sql.postgres);
                try (PreparedStatement insert = connection.prepareStatement(sql.append(heads[stream] < 0))) {
                    check(sql.bind(connection, insert, thread, stream, heads[stream], false));
                    if (!sql.postgres) {
                        connection.commit();
                    }
                } finally {
                    connection.setAutoCommit(true);
                }
                heads[stream]++;
            }
            return;
        }
        connection.setAutoCommit(false);
        try {
            if (sql.postgres && way == 0) {
                // The statements of one shape share a batch: streams at their start and streams with events.
                for (boolean noStream : new boolean[] {true, false}) {
                    try (PreparedStatement insert = connection.prepareStatement(sql.append(noStream))) {
                        int batched = 0;
                        for (int stream : streams) {
                            if ((heads[stream] < 0) == noStream) {
                                sql.bind(connection, insert, thread, stream, heads[stream], true);
                                batched++;
                            }
                        }
                        if (batched > 0) {
                            for (int count : insert.executeBatch()) {
                                check(count);
                            }
                        }
                    }
                }
            } else {
                for (int stream : streams) {
                    Savepoint savepoint = way == 1 ? connection.setSavepoint() : null;
                    try (PreparedStatement insert = connection.prepareStatement(sql.append(heads[stream] < 0))) {
                        check(sql.bind(connection, insert, thread, stream, heads[stream], false));
                    }
                    if (savepoint != null) {
                        connection.releaseSavepoint(savepoint);
                    }
                }
            }
            connection.commit();
        } finally {
            connection.setAutoCommit(true);
        }
        for (int stream : streams) {
            heads[stream]++;
        }
    }

    private static void check(int stored) {
        if (stored != 1) {
            throw new IllegalStateException("an append stored " + stored + " events instead of 1");
        }
    }

    /** The store's append in plain SQL: a command row and one event, stored only on the expected head. */
    private static final class Sql {
        final boolean postgres;
        final String commands;
        final String events;

        Sql(TableNames tables, boolean postgres) {
            this.postgres = postgres;
            this.commands = tables.commands();
            this.events = tables.events();
        }

        /** The command row's insert, conditional on the stream's head (parameters: 7, then 3 or 6). */
        String command(boolean noStream) {
            String text = postgres ? "text" : "CHARACTER VARYING";
            String head = "NOT EXISTS (SELECT 1 FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ? "
                    + "AND sequence_number = ?)" + (noStream ? "" : " AND EXISTS (SELECT 1 FROM " + events
                    + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = ?)");
            return "INSERT INTO " + commands + " (aggregate_type, aggregate_id, command_id, decided_at, event_count, "
                    + "outcome) SELECT CAST(? AS " + text + "), CAST(? AS " + text + "), CAST(? AS " + text
                    + "), CAST(? AS BIGINT), CAST(? AS INTEGER), 'result' WHERE " + head;
        }

        String append(boolean noStream) {
            if (!postgres) {
                return command(noStream);
            }
            return "WITH command AS (" + command(noStream) + " ON CONFLICT (aggregate_type, aggregate_id, command_id)"
                    + " DO NOTHING RETURNING 1) INSERT INTO " + events + " (aggregate_type, aggregate_id, "
                    + "sequence_number, event_id, command_id, event_type, payload, metadata, occurred_at) SELECT * "
                    + "FROM (VALUES (CAST(? AS text), CAST(? AS text), CAST(? AS bigint), CAST(? AS text), "
                    + "CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS jsonb), "
                    + "CAST(? AS timestamptz))) AS event WHERE EXISTS (SELECT 1 FROM command)";
        }

        /**
         * Binds one append of one event after {@code head}; on H2 executes its command row and then its event.
         *
         * @return on H2 the events stored (0 or 1); on PostgreSQL the update count, or 1 when batched
         */
        int bind(Connection connection, PreparedStatement insert, int thread, int stream, long head, boolean batch)
                throws SQLException {
            String type = "Bench";
            String id = "t" + thread + "-s" + stream;
            String commandId = UUID.randomUUID().toString();
            int p = 1;
            insert.setString(p++, type);
            insert.setString(p++, id);
            insert.setString(p++, commandId);
            insert.setLong(p++, head);
            insert.setInt(p++, 1);
            insert.setString(p++, type);
            insert.setString(p++, id);
            insert.setLong(p++, head + 1);
            if (head >= 0) {
                insert.setString(p++, type);
                insert.setString(p++, id);
                insert.setLong(p++, head);
            }
            if (!postgres) {
                if (insert.executeUpdate() == 0) {
                    return 0;
                }
                try (PreparedStatement event = connection.prepareStatement("INSERT INTO " + events
                        + " (aggregate_type, aggregate_id, sequence_number, event_id, command_id, event_type, "
                        + "payload, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    bindEvent(event, 1, type, id, head + 1, commandId);
                    return event.executeUpdate();
                }
            }
            bindEvent(insert, p, type, id, head + 1, commandId);
            if (batch) {
                insert.addBatch();
                return 1;
            }
            return insert.executeUpdate();
        }

        private static void bindEvent(PreparedStatement insert, int from, String type, String id, long sequence,
                                      String commandId) throws SQLException {
            int p = from;
            insert.setString(p++, type);
            insert.setString(p++, id);
            insert.setLong(p++, sequence);
            insert.setString(p++, UUID.randomUUID().toString());
            insert.setString(p++, commandId);
            insert.setString(p++, "Deposited");
            insert.setString(p++, PAYLOAD);
            insert.setString(p++, "{}");
            insert.setObject(p, OffsetDateTime.now(ZoneOffset.UTC));
        }
    }

    @FunctionalInterface
    private interface Transaction {
        void run(int thread, int[] counter) throws Exception;
    }

    private static double appendsPerSecond(int threads, double seconds, Transaction transaction) throws Exception {
        LongAdder appends = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        int[][] counters = new int[threads][1];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                    while (running.get()) {
                        int before = counters[thread][0];
                        transaction.run(thread, counters[thread]);
                        appends.add(counters[thread][0] - before);
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            worker.start();
            workers.add(worker);
        }
        start.await();
        long began = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        for (Thread worker : workers) {
            worker.join();
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        return appends.sum() / ((System.nanoTime() - began) / 1e9);
    }
}
