package io.gyre.examples.bench;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * What the log epoch of schema version 6 costs, on one PostgreSQL server in one run: two stores, one on tables of
 * version 6 (a {@code log_epoch} column, the index {@code (log_epoch, transaction_id, global_position)}) and one on
 * the same tables taken back to version 5 (no column, the index {@code (transaction_id, global_position)}), after the
 * stores started (a store checks its schema only then, and its inserts never name the column).
 * <ul>
 *   <li><b>Appends</b>: {@code threads} callers append one-event commands through each store in turn, alternating
 *       which goes first, on a durable server ({@code fsync} and {@code synchronous_commit} on). Cells are medians
 *       over rounds, the ratio the median of per-round ratios (version 6 over version 5).</li>
 *   <li><b>Server time</b>: on a server with {@code fsync} off, what PostgreSQL itself spends executing one event's
 *       insert, and one batch of 1,000 events of the global log's read with each version's query (version 6 also
 *       with the epoch as a constant, and the catalog lookup of the current epoch alone), from {@code EXPLAIN
 *       (ANALYZE, TIMING OFF)}, taking turns; the minimum and the median of {@code samples} runs each. On a shared
 *       machine the server's own execution time is steadier than a rate measured from the client.</li>
 * </ul>
 *
 * <p>Run: {@code java -cp ... io.gyre.examples.bench.LogEpochCostBenchmark [seconds rounds threads samples]}
 * (defaults 3 s, 7 rounds, 8 threads, 500 samples). {@code -Dbench.aa=true} leaves both stores' tables at version 6
 * and stops after the appends: the ratio two identical sides give on this machine, the noise floor.
 */
public final class LogEpochCostBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\"}";

    private LogEpochCostBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, threads, events to read
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int samples = args.length > 3 ? Integer.parseInt(args[3]) : 500;
        System.out.printf("Log epoch cost: schema version 6 (epoch column and index) against version 5, same server, "
                + "same run; %d processors%n%n", Runtime.getRuntime().availableProcessors());
        TableNames v6 = TableNames.withPrefix("v6_");
        TableNames v5 = TableNames.withPrefix("v5_");
        try (Databases databases = new Databases()) {
            DataSource durable = databases.postgres(threads + 2, true);
            boolean aa = Boolean.getBoolean("bench.aa");
            try (JdbcEventStore with = open(durable, v6); JdbcEventStore without = open(durable, v5)) {
                if (!aa) {
                    backToVersion5(durable, v5);
                }
                double[] withRates = new double[rounds];
                double[] withoutRates = new double[rounds];
                for (int round = -1; round < rounds; round++) {
                    double a;
                    double b;
                    if (round % 2 == 0) {
                        a = appends(with, threads, seconds, "r" + round);
                        b = appends(without, threads, seconds, "r" + round);
                    } else {
                        b = appends(without, threads, seconds, "r" + round);
                        a = appends(with, threads, seconds, "r" + round);
                    }
                    if (round >= 0) {
                        withRates[round] = a;
                        withoutRates[round] = b;
                    }
                }
                System.out.printf("Appends through the store, durable server (fsync, synchronous_commit on), %d "
                        + "threads, %.1f s per round, median of %d rounds:%n", threads, seconds, rounds);
                System.out.printf("  v6 %,.0f/s   %s %,.0f/s   ratio %.3f%n%n", Medians.of(withRates),
                        aa ? "v6 again" : "v5", Medians.of(withoutRates), Medians.ofRatios(withRates, withoutRates));
            }
            if (aa) {
                return;
            }
            DataSource fast = databases.postgres(2, false);
            open(fast, v6).close();
            open(fast, v5).close();
            backToVersion5(fast, v5);
            serverTime(fast, v6, v5, samples);
        }
    }

    private static JdbcEventStore open(DataSource dataSource, TableNames tables) {
        return JdbcEventStore.builder(dataSource).dialect(Dialect.POSTGRES).tableNames(tables).createSchema(true)
                .notifyAppends(false).build();
    }

    /** The events table as schema version 5 made it. */
    private static void backToVersion5(DataSource dataSource, TableNames tables) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("ALTER TABLE " + tables.events() + " DROP COLUMN log_epoch");
            statement.execute("CREATE INDEX " + tables.events() + "_log_order ON " + tables.events()
                    + " (transaction_id, global_position)");
        }
    }

    private static double appends(JdbcEventStore store, int threads, double seconds, String round)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean running = new AtomicBoolean(true);
        List<Future<Long>> counts = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            String caller = round + "-t" + t;
            counts.add(pool.submit(() -> {
                long n = 0;
                while (running.get()) {
                    StreamId stream = StreamId.of("Account", caller + "-" + n);
                    store.append(AppendRequest.events(stream, ExpectedSequence.noStream(), "c-" + caller + "-" + n,
                            List.of(new EventData(UUID.randomUUID().toString(), "Deposited", PAYLOAD, "{}",
                                    Instant.now()))));
                    n++;
                }
                return n;
            }));
        }
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        long total = 0;
        for (Future<Long> count : counts) {
            total += count.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        return total / elapsed;
    }

    /** Server-side execution times, from EXPLAIN ANALYZE, taking turns. */
    private static void serverTime(DataSource dataSource, TableNames v6, TableNames v5, int samples)
            throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            for (TableNames tables : List.of(v6, v5)) {
                statement.execute("INSERT INTO " + tables.events() + " (aggregate_type, aggregate_id, sequence_number,"
                        + " event_id, command_id, event_type, payload, metadata, occurred_at) SELECT 'Account', 'fill-'"
                        + " || (i % 5000), i / 5000, 'fill-' || i, 'c-' || i, 'Deposited', CAST('" + PAYLOAD + "' AS "
                        + "jsonb), CAST('{}' AS jsonb), now() FROM generate_series(1, 200000) AS i");
                statement.execute("VACUUM ANALYZE " + tables.events());
            }
            String columns = "global_position, aggregate_type, aggregate_id, sequence_number, event_id, command_id, "
                    + "event_type, payload, metadata, occurred_at, event_revision, "
                    + "CAST(CAST(transaction_id AS text) AS bigint) AS commit_order";
            String epoch = "(SELECT CAST(substring(pg_get_expr(d.adbin, d.adrelid) FROM '[0-9]+') AS smallint) FROM "
                    + "pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE "
                    + "d.adrelid = CAST('" + v6.events() + "' AS regclass) AND a.attname = 'log_epoch')";
            // The store's queries of each version, from the middle of the log: a batch of 1,000.
            String v6Read = "SELECT " + columns + ", log_epoch FROM " + v6.events() + " WHERE (log_epoch, "
                    + "transaction_id, global_position) > (0, CAST('" + firstTransaction(statement, v6) + "' AS xid8), "
                    + "100000) AND (log_epoch, transaction_id) < (" + epoch + ", pg_snapshot_xmin("
                    + "pg_current_snapshot())) ORDER BY log_epoch, transaction_id, global_position LIMIT 1000";
            String v6Constant = v6Read.replace(epoch, "CAST(0 AS smallint)");
            String v5Read = "SELECT " + columns + " FROM " + v5.events() + " WHERE (transaction_id, global_position) > "
                    + "(CAST('" + firstTransaction(statement, v5) + "' AS xid8), 100000) AND transaction_id < "
                    + "pg_snapshot_xmin(pg_current_snapshot()) ORDER BY transaction_id, global_position LIMIT 1000";
            String insert = " (aggregate_type, aggregate_id, sequence_number, event_id, command_id, event_type, "
                    + "payload, metadata, occurred_at) VALUES ('Account', CAST(gen_random_uuid() AS text), 0, "
                    + "CAST(gen_random_uuid() AS text), 'c', 'Deposited', CAST('" + PAYLOAD + "' AS jsonb), "
                    + "CAST('{}' AS jsonb), now())";
            String[] names = {"insert of one event, v6", "insert of one event, v5", "read of 1,000 events, v6",
                    "read of 1,000, v6, epoch constant", "read of 1,000 events, v5", "current epoch lookup alone"};
            String[] queries = {"INSERT INTO " + v6.events() + insert, "INSERT INTO " + v5.events() + insert, v6Read,
                    v6Constant, v5Read, "SELECT " + epoch};
            double[][] times = new double[queries.length][samples];
            for (int sample = 0; sample < samples; sample++) {
                for (int k = 0; k < queries.length; k++) {
                    // Turns: every other sample runs them in reverse order.
                    int q = sample % 2 == 0 ? k : queries.length - 1 - k;
                    times[q][sample] = executionMillis(statement, queries[q]);
                }
            }
            System.out.printf("Server execution time (fsync off), %d samples each, taking turns:%n", samples);
            for (int k = 0; k < queries.length; k++) {
                double[] sorted = times[k].clone();
                java.util.Arrays.sort(sorted);
                System.out.printf("  %-36s min %6.3f ms   median %6.3f ms%n", names[k], sorted[0],
                        sorted[samples / 2]);
            }
        }
    }

    private static String firstTransaction(Statement statement, TableNames tables) throws SQLException {
        try (ResultSet row = statement.executeQuery("SELECT CAST(transaction_id AS text) FROM " + tables.events()
                + " LIMIT 1")) {
            row.next();
            return row.getString(1);
        }
    }

    private static double executionMillis(Statement statement, String query) throws SQLException {
        String last = null;
        try (ResultSet rows = statement.executeQuery("EXPLAIN (ANALYZE, TIMING OFF) " + query)) {
            while (rows.next()) {
                last = rows.getString(1);
            }
        }
        if (last == null || !last.startsWith("Execution Time:")) {
            throw new IllegalStateException("EXPLAIN ANALYZE ended with " + last);
        }
        return Double.parseDouble(last.replaceAll("[^0-9.]", ""));
    }
}
