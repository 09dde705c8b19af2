package io.gyre.examples.bench;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * What each part of an append costs an embedded PostgreSQL server (fsync off), in server CPU per append: the same
 * single-event append written as statements of growing shape, each auto-committed, one per operation, by closed-loop
 * threads that each append to streams of their own, expecting the event they appended last. It splits the gap
 * between a command and a raw INSERT ({@link EventStoreBenchmark}) into its parts, and tries a shape the schema does
 * not have (the command key in the event row) to estimate what a schema change could win:
 * <ol start="0">
 *   <li><b>event</b>: one plain INSERT of the event row, the raw baseline;</li>
 *   <li><b>event on head</b>: the same, only on the expected head (two probes of the stream key);</li>
 *   <li><b>event + command</b>: the event and Gyre's command row in one statement, without the head check;</li>
 *   <li><b>Gyre statement</b>: the event and the command row on the head, as Gyre's statement writes them
 *       (a copy of its shape);</li>
 *   <li><b>Gyre store</b>: {@code JdbcEventStore.append}, one append a transaction, no notifications: the real
 *       statement and everything around it;</li>
 *   <li><b>folded</b>: the event on head in a copy of the events table with a unique index on (aggregate type,
 *       aggregate id, command id) and no command row: what exactly-once would cost if the command key lived in the
 *       event row (not Gyre's schema; decisions without events would still need rows of their own).</li>
 * </ol>
 * Shapes take turns within a round, which goes first rotating from round to round; each cell is the median of the
 * rounds, each ratio the median of the per-round ratios against the plain INSERT.
 *
 * <p>Run: {@code java -cp <examples class path> io.gyre.examples.bench.AppendShapeCostBenchmark [seconds rounds
 * threads]} (defaults 2, 8, 8).
 */
public final class AppendShapeCostBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\","
            + "\"note\":\"benchmark deposit\"}";
    private static final String METADATA = "{\"correlationId\":\"c-1\"}";
    private static final String[] SHAPES = {"event", "event on head", "event + command", "Gyre statement",
        "Gyre store", "folded"};
    private static final int STREAMS_PER_THREAD = 125;
    private static final String COLUMNS = "aggregate_type, aggregate_id, sequence_number, event_id, command_id, "
            + "event_type, payload, metadata, occurred_at, event_revision";
    private static final String VALUES = "CAST(? AS text), CAST(? AS text), CAST(? AS bigint), CAST(? AS text), "
            + "CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS jsonb), CAST(? AS timestamptz), "
            + "CAST(? AS integer)";

    private AppendShapeCostBenchmark() {
    }

    /** One append of a shape: the thread's stream and the sequence number of the new event. */
    @FunctionalInterface
    private interface Shape {
        void append(String aggregateId, long sequence) throws Exception;
    }

    /**
     * @param args seconds per round, rounds, threads
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        try (Databases databases = new Databases()) {
            DataSource dataSource = databases.postgres(threads + 2, false);
            ServerCpu server = ServerCpu.of(dataSource, databases.postgresSource());
            TableNames tables = TableNames.withPrefix("shape_");
            JdbcEventStore store = JdbcEventStore.builder(dataSource).dialect(Dialect.POSTGRES).tableNames(tables)
                    .createSchema(true).maxAppendsPerTransaction(1).notifyAppends(false).build();
            String folded = "fold_events";
            try (Connection connection = dataSource.getConnection(); Statement ddl = connection.createStatement()) {
                ddl.execute("CREATE TABLE " + folded + " (LIKE " + tables.events() + " INCLUDING ALL)");
                ddl.execute("CREATE UNIQUE INDEX fold_events_command_key ON " + folded
                        + " (aggregate_type, aggregate_id, command_id)");
            }
            Shape[] shapes = shapes(dataSource, store, tables, folded);
            // The first event of a stream, written before the window opens by a plain INSERT into the shape's table.
            Shape intoEvents = shapes[0];
            Shape intoFolded = (id, sequence) -> execute(dataSource, plainInsert(folded), id, sequence, false, false);
            Shape[] firsts = {intoEvents, intoEvents, intoEvents, intoEvents, intoEvents, intoFolded};
            System.out.printf("Append shape cost: embedded PostgreSQL (fsync off), %d threads, %.1f s per round, "
                    + "median of %d rounds, %d processors%n", threads, seconds, rounds,
                    Runtime.getRuntime().availableProcessors());
            double[][][] results = new double[shapes.length][rounds][];
            // Unrecorded warm-up: every shape once, for the JIT, the driver's prepared statements and the tables.
            for (int s = 0; s < shapes.length; s++) {
                run(threads, Math.min(seconds, 1), server, firsts[s], shapes[s], "w" + s + "-");
            }
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < shapes.length; i++) {
                    int s = (round + i) % shapes.length;
                    results[s][round] = run(threads, seconds, server, firsts[s], shapes[s],
                            "r" + round + "s" + s + "-");
                }
            }
            System.out.printf("  %-16s %10s %10s %10s %10s %10s%n", "shape", "appends/s", "srv µs", "srv ratio",
                    "JVM µs", "rate ratio");
            for (int s = 0; s < shapes.length; s++) {
                System.out.printf("  %-16s %10.0f %10.1f %9.2fx %10.1f %9.2fx%n", SHAPES[s], median(results[s], 0),
                        median(results[s], 2), ratio(results[s], results[0], 2), median(results[s], 1),
                        ratio(results[s], results[0], 0));
            }
            store.close();
        }
    }

    private static Shape[] shapes(DataSource dataSource, JdbcEventStore store, TableNames tables, String folded) {
        String events = tables.events();
        String columns = COLUMNS;
        String values = VALUES;
        String commandColumns = "aggregate_type, aggregate_id, command_id, decided_at, event_count, outcome, "
                + "result_type, result, refusal_type, refusal_message, fingerprint";
        String commandValues = "CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS bigint), "
                + "CAST(? AS integer), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), "
                + "CAST(? AS text), CAST(? AS text)";
        String onHead = " WHERE NOT EXISTS (SELECT 1 FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " AND sequence_number = ?) AND EXISTS (SELECT 1 FROM " + events + " WHERE aggregate_type = ? AND "
                + "aggregate_id = ? AND sequence_number = ?)";
        String command = "INSERT INTO " + tables.commands() + " (" + commandColumns + ") ";
        String conflict = " ON CONFLICT (aggregate_type, aggregate_id, command_id) DO NOTHING RETURNING 1";
        String eventsAfterCommand = " INSERT INTO " + events + " (" + columns + ") SELECT * FROM (VALUES (" + values
                + ")) AS e WHERE EXISTS (SELECT 1 FROM command)";
        String plain = plainInsert(events);
        String eventOnHead = "INSERT INTO " + events + " (" + columns + ") SELECT " + values + onHead;
        String eventAndCommand = "WITH command AS (" + command + "VALUES (" + commandValues + ")" + conflict + ")"
                + eventsAfterCommand;
        String gyre = "WITH command AS (" + command + "SELECT " + commandValues + onHead + conflict + ")"
                + eventsAfterCommand;
        String fold = "INSERT INTO " + folded + " (" + columns + ") SELECT " + values
                + onHead.replace(events, folded) + " ON CONFLICT DO NOTHING";
        return new Shape[] {
            (id, sequence) -> execute(dataSource, plain, id, sequence, false, false),
            (id, sequence) -> execute(dataSource, eventOnHead, id, sequence, false, true),
            (id, sequence) -> execute(dataSource, eventAndCommand, id, sequence, true, false),
            (id, sequence) -> execute(dataSource, gyre, id, sequence, true, true),
            (id, sequence) -> store.append(new AppendRequest(StreamId.of("Bench", id), sequence == 0
                    ? ExpectedSequence.noStream() : ExpectedSequence.exactly(sequence - 1),
                    UUID.randomUUID().toString(), List.of(new EventData(UUID.randomUUID().toString(), "Deposited",
                    PAYLOAD, METADATA, Instant.now())), CommandOutcome.Result.of(null), null)),
            (id, sequence) -> execute(dataSource, fold, id, sequence, false, true),
        };
    }

    private static String plainInsert(String table) {
        return "INSERT INTO " + table + " (" + COLUMNS + ") VALUES (" + VALUES + ")";
    }

    /**
     * Runs one statement, auto-committed, with the command row's values first when it has them, then the event's,
     * then the head's.
     */
    private static void execute(DataSource dataSource, String sql, String id, long sequence, boolean commandRow,
                                boolean head) throws SQLException {
        String commandId = UUID.randomUUID().toString();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(sql)) {
            int p = 1;
            if (commandRow) {
                statement.setString(p++, "Bench");
                statement.setString(p++, id);
                statement.setString(p++, commandId);
                statement.setLong(p++, sequence - 1);
                statement.setInt(p++, 1);
                statement.setString(p++, "result");
                statement.setString(p++, null);
                statement.setString(p++, null);
                statement.setString(p++, null);
                statement.setString(p++, null);
                statement.setString(p++, null);
                if (head) {
                    p = bindHead(statement, p, id, sequence);
                }
            }
            statement.setString(p++, "Bench");
            statement.setString(p++, id);
            statement.setLong(p++, sequence);
            statement.setString(p++, UUID.randomUUID().toString());
            statement.setString(p++, commandId);
            statement.setString(p++, "Deposited");
            statement.setString(p++, PAYLOAD);
            statement.setString(p++, METADATA);
            statement.setObject(p++, OffsetDateTime.now(ZoneOffset.UTC));
            statement.setInt(p++, 0);
            if (head && !commandRow) {
                bindHead(statement, p, id, sequence);
            }
            if (statement.executeUpdate() != 1) {
                throw new IllegalStateException("the head of " + id + " was not " + (sequence - 1));
            }
        }
    }

    private static int bindHead(PreparedStatement statement, int from, String id, long sequence)
            throws SQLException {
        int p = from;
        statement.setString(p++, "Bench");
        statement.setString(p++, id);
        statement.setLong(p++, sequence);
        statement.setString(p++, "Bench");
        statement.setString(p++, id);
        statement.setLong(p++, sequence - 1);
        return p;
    }

    /** @return appends per second, JVM CPU µs per append, server CPU µs per append */
    private static double[] run(int threads, double seconds, ServerCpu server, Shape first, Shape shape,
                                String prefix)
            throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicBoolean running = new AtomicBoolean(true);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        LongAdder done = new LongAdder();
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String streams = prefix + t + "-";
            Thread worker = new Thread(() -> {
                try {
                    long[] sequences = new long[STREAMS_PER_THREAD];
                    // Every stream's first event first, by the plain INSERT, before the window opens.
                    for (int s = 0; s < STREAMS_PER_THREAD; s++) {
                        first.append(streams + s, sequences[s]++);
                    }
                    start.await();
                    for (int i = 0; running.get(); i++) {
                        int s = i % STREAMS_PER_THREAD;
                        shape.append(streams + s, sequences[s]++);
                        done.increment();
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
        long cpuBefore = os.getProcessCpuTime();
        long serverBefore = server.nanos();
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        long cpu = os.getProcessCpuTime() - cpuBefore;
        long serverCpu = server.nanos() - serverBefore;
        long elapsed = System.nanoTime() - began;
        for (Thread each : workers) {
            each.join();
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        double count = done.sum();
        return new double[] {count / (elapsed / 1e9), cpu / 1e3 / count, serverCpu / 1e3 / count};
    }

    private static double median(double[][] rounds, int figure) {
        return Medians.of(Arrays.stream(rounds).mapToDouble(round -> round[figure]).toArray());
    }

    private static double ratio(double[][] rounds, double[][] baseline, int figure) {
        return Medians.ofRatios(Arrays.stream(rounds).mapToDouble(round -> round[figure]).toArray(),
                Arrays.stream(baseline).mapToDouble(round -> round[figure]).toArray());
    }
}
