package io.gyre.examples.bench;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.Gyre;
import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.serialization.SerializedValue;
import io.gyre.snapshot.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What snapshots save when an aggregate with a long history is loaded (after a restart, a rebalance, or a cache
 * miss): one aggregate of 100,000 events, loaded by a node without a cache (so that every command loads it), on
 * an H2 file and on PostgreSQL (embedded, fsync off, or {@code GYRE_JDBC_URL}). For each database it prints the
 * median load time from the events alone (the baseline, after 2 warm-ups), from a snapshot taken at the last
 * event, and from a snapshot followed by the longest tail the default interval leaves (999 events), each after 20
 * warm-ups, with their ratios to the baseline measured in the same run. Target: under 50 ms with snapshots.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.SnapshotLoadBenchmark [-Dexec.args="events samples"]} (defaults:
 * 100,000 events, 9 samples).
 */
public final class SnapshotLoadBenchmark {

    private static final int TAIL = Gyre.Builder.DEFAULT_SNAPSHOT_EVERY - 1;
    private static final int CHUNK = 1_000;
    private static final int CHEAP_WARMUPS = 20;

    private SnapshotLoadBenchmark() {
    }

    /** An aggregate with a small state, as most long-lived ones have: a running total. */
    @Aggregate(name = "Tally")
    public static class Tally {
        @AggregateId
        private String id;
        private long total;
        private long count;

        protected Tally() {
        }

        @CommandHandler
        Tally(Start command) {
            apply(new Started(command.id()));
        }

        @CommandHandler
        long handle(Total command) {
            return total;
        }

        @EventSourcingHandler
        void on(Started event) {
            id = event.id();
        }

        @EventSourcingHandler
        void on(Added event) {
            total += event.amount();
            count++;
        }
    }

    /** Starts a tally. */
    public record Start(@TargetAggregateId String id) {
    }

    /** Reads a tally's total: loads it, stores nothing. */
    public record Total(@TargetAggregateId String id) {
    }

    /** A tally was started. */
    public record Started(String id) {
    }

    /** An amount was added to a tally. */
    public record Added(String id, long amount) {
    }

    /** One database's medians, in milliseconds. */
    private record Row(String database, double eventsOnly, double snapshot, double snapshotAndTail, int snapshotChars) {
    }

    /**
     * @param args events, samples
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int samples = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        System.out.printf("Snapshot load benchmark: one aggregate of %,d events, no cache (every command loads it), "
                + "medians of %d loads%n", events, samples);
        List<Row> rows = new ArrayList<>();
        try (Databases databases = new Databases()) {
            try (JdbcEventStore h2 = JdbcEventStore.h2(databases.temporaryFolder("gyre-bench-snapshots")
                    .resolve("events"))) {
                rows.add(measure("H2 file", h2, events, samples));
            }
            try (JdbcEventStore postgres = JdbcEventStore.postgres(databases.postgres(4))) {
                rows.add(measure("PostgreSQL (" + databases.postgresSource() + ", fsync off)", postgres, events,
                        samples));
            }
        }
        System.out.printf("%n| database | events only (baseline) | snapshot | ÷ baseline | snapshot + %d events "
                + "| ÷ baseline |%n| --- | --- | --- | --- | --- | --- |%n", TAIL);
        for (Row row : rows) {
            System.out.printf("| %s | %.1f ms | %.2f ms | %.4f | %.1f ms | %.3f |%n", row.database(), row.eventsOnly(),
                    row.snapshot(), row.snapshot() / row.eventsOnly(), row.snapshotAndTail(),
                    row.snapshotAndTail() / row.eventsOnly());
        }
        System.out.printf("%nsnapshot size: %d characters of JSON; target: under 50 ms with snapshots%n",
                rows.get(0).snapshotChars());
    }

    private static Row measure(String database, JdbcEventStore store, int events, int samples) {
        StreamId stream = StreamId.of("Tally", "tally-1");
        long last;
        try (Gyre writer = Gyre.builder().name("writer").sharedEventStore(store).aggregate(Tally.class).start()) {
            writer.commandGateway().sendAndWait(new Start(stream.aggregateId()));
            last = append(writer, store, stream, 0, events - 1);
        }
        double eventsOnly;
        try (Gyre plain = Gyre.builder().name("plain").sharedEventStore(store).aggregate(Tally.class).cacheSize(0)
                .start()) {
            eventsOnly = Medians.median(2, samples, () -> timeLoad(plain, stream)) / 1e6;
        }
        double snapshot;
        double snapshotAndTail;
        Snapshot taken;
        try (Gyre snapshots = Gyre.builder().name("snapshots").sharedEventStore(store).aggregate(Tally.class)
                .cacheSize(0).snapshots(store.snapshots()).start()) {
            // The first load replays every event, and asks the background snapshotter for a snapshot.
            timeLoad(snapshots, stream);
            long head = last;
            taken = waitFor(() -> store.snapshots().latest(stream).filter(s -> s.sequence() == head));
            // Loads of a few milliseconds: warm up long enough that the JIT (H2's engine runs in this JVM) is not
            // what is measured.
            snapshot = Medians.median(CHEAP_WARMUPS, samples, () -> timeLoad(snapshots, stream)) / 1e6;
            append(snapshots, store, stream, last, TAIL);
            snapshotAndTail = Medians.median(CHEAP_WARMUPS, samples, () -> timeLoad(snapshots, stream)) / 1e6;
            long still = store.snapshots().latest(stream).orElseThrow().sequence();
            if (still != last) {
                throw new IllegalStateException("a snapshot at " + still + " was taken during the tail loads, which "
                        + "were meant to replay " + TAIL + " events from the one at " + last);
            }
        }
        System.out.printf("  %s: events only %.1f ms, snapshot %.2f ms, snapshot + %d events %.1f ms%n", database,
                eventsOnly, snapshot, TAIL, snapshotAndTail);
        return new Row(database, eventsOnly, snapshot, snapshotAndTail, taken.payload().length());
    }

    private static long timeLoad(Gyre node, StreamId stream) {
        long start = System.nanoTime();
        node.commandGateway().sendAndWait(new Total(stream.aggregateId()), Duration.ofMinutes(1));
        return System.nanoTime() - start;
    }

    /** Appends events straight to the store, a thousand per append: filling is not what is measured. */
    private static long append(Gyre node, JdbcEventStore store, StreamId stream, long last, int count) {
        Instant now = Instant.now();
        for (int from = 0; from < count; from += CHUNK) {
            List<EventData> chunk = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + CHUNK); i++) {
                SerializedValue added = node.serializer().serialize(new Added(stream.aggregateId(), i));
                chunk.add(new EventData("tally-" + (last + 1 + i), added.type(), added.data(), "{}", now));
            }
            store.append(AppendRequest.events(stream, ExpectedSequence.exactly(last + from), "fill-" + (last + from),
                    chunk));
        }
        return last + count;
    }

    private static <T> T waitFor(java.util.function.Supplier<Optional<T>> condition) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            Optional<T> value = condition.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no snapshot within 2 minutes");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
