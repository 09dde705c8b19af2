package io.gyre.examples.bench;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.processing.SegmentOwnership;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * What PostgreSQL's append notification (a {@code NOTIFY} after appends commit, which wakes the processors of every
 * node) costs appends, on a durable embedded PostgreSQL ({@code fsync} and {@code synchronous_commit} on, as
 * production runs it). Two stores on one server, each on tables of its own, identical but for
 * {@code notifyAppends}: <b>notify</b> (the default, with a subscriber listening, so that the notifications are
 * queued and delivered as in a cluster) and <b>silent</b> ({@code notifyAppends(false)}). Closed loop: each thread
 * appends one single-event command at a time to its own aggregates, in turn. The two take turns within a round,
 * which goes first alternating; each cell is the median of the rounds, and the ratio the median of the per-round
 * ratios.
 *
 * <p>Why it is sent after the commit rather than inside each append's transaction: PostgreSQL serialises the commits
 * of transactions that notified (a lock taken before the commit record is flushed and held until the notification is
 * queued), so concurrent notifying appends could not share a log flush. Inside the append's statement, this benchmark
 * measured 0.97 times the silent appends per second for 1 thread, 0.36 for 8 and 0.45 for 64 (commit a2f0a72); the
 * store now sends one notification at a time per node, after the commit, shared by the appends that commit
 * meanwhile.
 *
 * <p>Run: {@code java -cp <examples class path> io.gyre.examples.bench.NotifyCostBenchmark [seconds rounds
 * threads...]} (defaults: 2 s per round, 6 rounds, threads 1 8 64).
 */
public final class NotifyCostBenchmark {

    private static final String PAYLOAD = "{\"accountId\":\"acc-12345\",\"amount\":4200,\"currency\":\"EUR\"}";
    private static final int AGGREGATES_PER_THREAD = 50;

    private NotifyCostBenchmark() {
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
        try (Databases databases = new Databases()) {
            DataSource dataSource = databases.postgres(maxThreads + 8, true);
            System.out.printf("NOTIFY cost on appends: durable %s PostgreSQL, %.1f s per round, median of %d rounds, "
                    + "%d processors%n%n", databases.postgresSource(), seconds, rounds,
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("  %8s %14s %14s %16s%n", "threads", "notify/s", "silent/s", "notify / silent");
            try (JdbcEventStore notify = store(dataSource, true); JdbcEventStore silent = store(dataSource, false)) {
                SegmentOwnership.Registration listening = notify.subscribe(() -> { });
                try {
                    measure(notify, silent, threads, seconds, rounds);
                } finally {
                    listening.close();
                }
            }
        }
    }

    private static void measure(JdbcEventStore notify, JdbcEventStore silent, int[] threads, double seconds,
                                int rounds) throws Exception {
        for (int count : threads) {
            Side notifying = new Side(notify, count);
            Side quiet = new Side(silent, count);
            notifying.run(seconds / 4); // warm-up: statements prepared, streams created
            quiet.run(seconds / 4);
            double[] withNotify = new double[rounds];
            double[] without = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                if (round % 2 == 0) {
                    withNotify[round] = notifying.run(seconds);
                    without[round] = quiet.run(seconds);
                } else {
                    without[round] = quiet.run(seconds);
                    withNotify[round] = notifying.run(seconds);
                }
            }
            System.out.printf("  %8d %14.0f %14.0f %16.3f%n", count, Medians.of(withNotify),
                    Medians.of(without), Medians.ofRatios(withNotify, without));
        }
    }

    private static JdbcEventStore store(DataSource dataSource, boolean notifyAppends) {
        TableNames tables = TableNames.withPrefix("n" + UUID.randomUUID().toString().replace("-", "").substring(0, 8)
                + "_");
        return JdbcEventStore.builder(dataSource).dialect(Dialect.POSTGRES).tableNames(tables).createSchema(true)
                .notifyAppends(notifyAppends).build();
    }

    /** One store's threads, each with its own aggregates and their last sequence numbers, kept across rounds. */
    private static final class Side {

        private final JdbcEventStore store;
        private final int threads;
        private final long[][] lastSequence;
        private final String prefix = UUID.randomUUID().toString().substring(0, 8);

        Side(JdbcEventStore store, int threads) {
            this.store = store;
            this.threads = threads;
            this.lastSequence = new long[threads][AGGREGATES_PER_THREAD];
            for (long[] each : lastSequence) {
                Arrays.fill(each, -1);
            }
        }

        /** @return appends per second over the round */
        double run(double seconds) throws Exception {
            AtomicBoolean running = new AtomicBoolean(true);
            LongAdder appends = new LongAdder();
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread worker = new Thread(() -> {
                    try {
                        start.await();
                        int aggregate = 0;
                        while (running.get()) {
                            long last = lastSequence[thread][aggregate];
                            store.append(AppendRequest.events(StreamId.of("Bench", prefix + "-" + thread + "-"
                                    + aggregate), last < 0 ? ExpectedSequence.noStream()
                                    : ExpectedSequence.exactly(last), UUID.randomUUID().toString(), List.of(
                                    new EventData(UUID.randomUUID().toString(), "Deposited", PAYLOAD, "{}",
                                            Instant.now()))));
                            lastSequence[thread][aggregate] = last + 1;
                            appends.increment();
                            aggregate = (aggregate + 1) % AGGREGATES_PER_THREAD;
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                workers.add(worker);
                worker.start();
            }
            start.await();
            long began = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            running.set(false);
            for (Thread worker : workers) {
                worker.join();
            }
            double elapsed = (System.nanoTime() - began) / 1e9;
            if (!failures.isEmpty()) {
                throw new IllegalStateException("An append failed", failures.get(0));
            }
            return appends.sum() / elapsed;
        }
    }
}
