package io.gyre.examples.bench;

import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * Appends per second and stream-read events per second of the JDBC event store on H2 and PostgreSQL, at 1, 8
 * and 64 threads, each next to a raw JDBC baseline on an identical table measured in the same run: one plain
 * INSERT per command, and one plain SELECT of the stream. Appends have a second baseline that inserts the row
 * Gyre inserts, command key included, to tell the cost of the store's code from the cost of exactly-once. Every cell is the median of several rounds, and each
 * ratio the median of the per-round ratios. The store and the baseline take turns within a round, and which of
 * them goes first alternates from round to round, so that drift on a shared machine and a database file that
 * grows during the run hit both alike.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.EventStoreBenchmark [-Dexec.args="seconds rounds threads..."]}
 * (defaults: 2 seconds per round, 6 rounds, threads 1 8 64); {@code -Dbench.db=h2} or {@code postgres} runs one
 * database only; {@code -Dbench.maxAppendsPerTransaction=1} turns group commit off.
 */
public final class EventStoreBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\","
            + "\"note\":\"benchmark deposit\"}";
    private static final String METADATA = "{\"correlationId\":\"c-1\"}";
    private static final int AGGREGATES_PER_THREAD = 100;
    private static final int STREAM_LENGTH = 1_000;

    private EventStoreBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, then thread counts
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        int[] threads = args.length > 2 ? Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8, 64};
        int maxThreads = Arrays.stream(threads).max().orElse(1);
        System.out.printf("Event store benchmark: %.1f s per round, median of %d rounds, %d processors%n%n", seconds,
                rounds, Runtime.getRuntime().availableProcessors());
        String only = System.getProperty("bench.db", "both");
        try (Databases databases = new Databases()) {
            if (!only.equals("postgres")) {
                run("H2", databases.h2(maxThreads + 2), Dialect.H2, seconds, rounds, threads);
            }
            if (!only.equals("h2")) {
                DataSource postgres = databases.postgres(maxThreads + 2);
                run("PostgreSQL (" + databases.postgresSource() + ")", postgres, Dialect.POSTGRES, seconds, rounds,
                        threads);
            }
        }
    }

    private static void run(String name, DataSource dataSource, Dialect dialect, double seconds, int rounds,
                            int[] threads) throws Exception {
        int groupCommit = Integer.getInteger("bench.maxAppendsPerTransaction", 64);
        JdbcEventStore store = JdbcEventStore.builder(dataSource).dialect(dialect)
                .tableNames(TableNames.withPrefix("bench_")).createSchema(true)
                .maxAppendsPerTransaction(groupCommit).build();
        TableNames rawTables = TableNames.withPrefix("raw_");
        JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(rawTables).createSchema(true).build();
        String rawInsert = "INSERT INTO " + rawTables.events() + " (aggregate_type, aggregate_id, sequence_number, "
                + "event_id, command_id, event_type, payload, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, "
                + (dialect == Dialect.POSTGRES ? "CAST(? AS jsonb), CAST(? AS jsonb)" : "?, ?") + ", ?)";
        String rawSelect = "SELECT global_position, aggregate_type, aggregate_id, sequence_number, event_id, "
                + "command_id, event_type, payload, metadata, occurred_at FROM " + rawTables.events()
                + " WHERE aggregate_id = ? AND sequence_number >= ? ORDER BY sequence_number";

        // A second baseline writes the row Gyre writes: the command id also in command_key, under its unique
        // key, which is what makes a re-sent command detectable. Its ratio is the cost of the store's own code;
        // the first ratio adds the cost of exactly-once.
        TableNames keyedTables = TableNames.withPrefix("rawkey_");
        JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(keyedTables).createSchema(true).build();
        String keyedInsert = "INSERT INTO " + keyedTables.events() + " (aggregate_type, aggregate_id, "
                + "sequence_number, event_id, command_id, event_type, payload, metadata, occurred_at, command_key) "
                + "VALUES (?, ?, ?, ?, ?, ?, "
                + (dialect == Dialect.POSTGRES ? "CAST(? AS jsonb), CAST(? AS jsonb)" : "?, ?") + ", ?, ?)";

        System.out.println(name + (groupCommit == 1 ? ", group commit off" : ""));
        System.out.println("  single-event appends per second");
        System.out.printf("  %8s %14s %14s %14s %8s %12s%n", "threads", "raw INSERT/s", "+command key/s",
                "Gyre append/s", "ratio", "vs +key");
        for (int t : threads) {
            double[][] results = new double[3][rounds];
            for (int round = 0; round < rounds; round++) {
                String runId = t + "-" + round;
                Append rawAppend = (thread, aggregate, sequence) -> rawInsert(dataSource, rawInsert,
                        "raw-" + runId + "-" + thread + "-" + aggregate, sequence, false);
                Append keyedAppend = (thread, aggregate, sequence) -> rawInsert(dataSource, keyedInsert,
                        "key-" + runId + "-" + thread + "-" + aggregate, sequence, true);
                Append gyreAppend = (thread, aggregate, sequence) ->
                        store.append(AppendRequest.events(StreamId.of("Bench", "gyre-" + runId + "-" + thread + "-"
                                + aggregate), ExpectedSequence.exactly(sequence - 1),
                                java.util.UUID.randomUUID().toString(), List.of(event())));
                Append[] sides = {rawAppend, keyedAppend, gyreAppend};
                // Rotate which goes first, so that a database slowing down or warming up as it grows favours
                // none of them.
                for (int i = 0; i < sides.length; i++) {
                    int side = (round + i) % sides.length;
                    results[side][round] = appendsPerSecond(t, seconds, sides[side]);
                }
            }
            System.out.printf("  %8d %14.0f %14.0f %14.0f %7.2fx %11.2fx%n", t, Medians.of(results[0]),
                    Medians.of(results[1]), Medians.of(results[2]), Medians.ofRatios(results[2], results[0]),
                    Medians.ofRatios(results[2], results[1]));
        }

        int streams = Arrays.stream(threads).max().orElse(1);
        for (int s = 0; s < streams; s++) {
            writeStream(store, dataSource, rawInsert, "stream-" + s);
        }
        System.out.printf("  reading %,d-event streams%n", STREAM_LENGTH);
        System.out.printf("  %8s %14s %14s %8s %16s %16s%n", "threads", "raw events/s", "Gyre events/s", "ratio",
                "raw ms/stream", "Gyre ms/stream");
        for (int t : threads) {
            double[] raw = new double[rounds];
            double[] gyre = new double[rounds];
            double[] rawLatency = new double[rounds];
            double[] gyreLatency = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                Load rawLoad = stream -> {
                    try (Connection connection = dataSource.getConnection();
                         PreparedStatement select = connection.prepareStatement(rawSelect)) {
                        select.setString(1, "raw-stream-" + stream);
                        select.setLong(2, 0);
                        int count = 0;
                        try (ResultSet rows = select.executeQuery()) {
                            while (rows.next()) {
                                rows.getLong(1);
                                rows.getString(2);
                                rows.getString(3);
                                rows.getLong(4);
                                rows.getString(5);
                                rows.getString(6);
                                rows.getString(7);
                                rows.getString(8);
                                rows.getString(9);
                                rows.getObject(10, OffsetDateTime.class);
                                count++;
                            }
                        }
                        return count;
                    }
                };
                Load gyreLoad = stream -> {
                    try (Stream<StoredEvent> events = store.readStream(StreamId.of("Bench", "gyre-stream-" + stream))) {
                        return (int) events.count();
                    }
                };
                double[] rawResult;
                double[] gyreResult;
                if (round % 2 == 0) {
                    rawResult = loadsPerSecond(t, seconds, rawLoad, streams);
                    gyreResult = loadsPerSecond(t, seconds, gyreLoad, streams);
                } else {
                    gyreResult = loadsPerSecond(t, seconds, gyreLoad, streams);
                    rawResult = loadsPerSecond(t, seconds, rawLoad, streams);
                }
                raw[round] = rawResult[0];
                rawLatency[round] = rawResult[1];
                gyre[round] = gyreResult[0];
                gyreLatency[round] = gyreResult[1];
            }
            System.out.printf("  %8d %14.0f %14.0f %7.2fx %16.3f %16.3f%n", t, Medians.of(raw), Medians.of(gyre),
                    Medians.ofRatios(gyre, raw), Medians.of(rawLatency), Medians.of(gyreLatency));
        }
        System.out.println();
    }

    private static void rawInsert(DataSource dataSource, String sql, String aggregateId, long sequence,
                                  boolean withCommandKey) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement insert = connection.prepareStatement(sql)) {
            String commandId = java.util.UUID.randomUUID().toString();
            insert.setString(1, "Bench");
            insert.setString(2, aggregateId);
            insert.setLong(3, sequence);
            insert.setString(4, java.util.UUID.randomUUID().toString());
            insert.setString(5, commandId);
            insert.setString(6, "Deposited");
            insert.setString(7, PAYLOAD);
            insert.setString(8, METADATA);
            insert.setObject(9, OffsetDateTime.now(ZoneOffset.UTC));
            if (withCommandKey) {
                insert.setString(10, commandId);
            }
            insert.executeUpdate();
        }
    }

    private static EventData event() {
        return new EventData(java.util.UUID.randomUUID().toString(), "Deposited", PAYLOAD, METADATA, Instant.now());
    }

    private static void writeStream(JdbcEventStore store, DataSource dataSource, String rawInsert, String id)
            throws SQLException {
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < STREAM_LENGTH; i++) {
            events.add(event());
        }
        store.append(AppendRequest.events(StreamId.of("Bench", "gyre-" + id), ExpectedSequence.noStream(),
                java.util.UUID.randomUUID().toString(), events));
        try (Connection connection = dataSource.getConnection();
             PreparedStatement insert = connection.prepareStatement(rawInsert)) {
            for (int i = 0; i < STREAM_LENGTH; i++) {
                insert.setString(1, "Bench");
                insert.setString(2, "raw-" + id);
                insert.setLong(3, i);
                insert.setString(4, java.util.UUID.randomUUID().toString());
                insert.setString(5, "cmd");
                insert.setString(6, "Deposited");
                insert.setString(7, PAYLOAD);
                insert.setString(8, METADATA);
                insert.setObject(9, OffsetDateTime.now(ZoneOffset.UTC));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @FunctionalInterface
    private interface Append {
        void run(int thread, int aggregate, long sequence) throws Exception;
    }

    @FunctionalInterface
    private interface Load {
        int run(int stream) throws Exception;
    }

    /** Each thread appends one event at a time to its own aggregates, in turn, for the given time. */
    private static double appendsPerSecond(int threads, double seconds, Append append) throws Exception {
        LongAdder done = new LongAdder();
        double elapsed = runFor(threads, seconds, (thread, running) -> {
            long[] sequences = new long[AGGREGATES_PER_THREAD];
            for (int i = 0; running.getAsBoolean(); i++) {
                int aggregate = i % AGGREGATES_PER_THREAD;
                append.run(thread, aggregate, sequences[aggregate]++);
                done.increment();
            }
        });
        return done.sum() / elapsed;
    }

    /** Each thread loads whole streams in turn; returns events per second and the median load in ms. */
    private static double[] loadsPerSecond(int threads, double seconds, Load load, int streams) throws Exception {
        LongAdder events = new LongAdder();
        long[][] latencies = new long[threads][200_000];
        double elapsed = runFor(threads, seconds, (thread, running) -> {
            long[] mine = latencies[thread];
            for (int i = 0; running.getAsBoolean(); i++) {
                long before = System.nanoTime();
                int count = load.run((thread + i) % streams);
                if (i < mine.length) {
                    mine[i] = System.nanoTime() - before;
                }
                if (count != STREAM_LENGTH) {
                    throw new IllegalStateException("stream has " + count + " events");
                }
                events.add(count);
            }
        });
        double[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).filter(v -> v > 0)
                .mapToDouble(v -> v / 1e6).toArray();
        return new double[] {events.sum() / elapsed, Medians.of(all)};
    }

    @FunctionalInterface
    private interface Worker {
        void run(int thread, BooleanSupplier running) throws Exception;
    }

    /** Starts the threads together, lets them work for the given time, and returns the seconds they ran. */
    private static double runFor(int threads, double seconds, Worker worker) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread runner = new Thread(() -> {
                try {
                    start.await();
                    worker.run(thread, running::get);
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            runner.start();
            workers.add(runner);
        }
        start.await();
        long began = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        for (Thread each : workers) {
            each.join();
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        return (System.nanoTime() - began) / 1e9;
    }
}
