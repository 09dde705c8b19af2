package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.jdbc.Dialect;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.OpenAccount;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * What a cache miss adds to a command: the same Deposit commands, closed loop, on two nodes over one store, one that
 * keeps all its accounts cached and one without a cache ({@code cacheSize(0)}), so that every one of its commands
 * first loads its account from the store (one stream read, the events' JSON, the handlers). The two take turns
 * within a round, the first alternating, and each has accounts of its own, so neither makes the other's cache stale.
 * Printed per round pair and as medians: commands per second, the JVM's CPU time per command, the server's (embedded
 * PostgreSQL), and the per-round ratios miss ÷ cached; the difference is what a miss costs. The streams grow by a few
 * events per round, alike for both.
 *
 * <p>For an A/B of two builds, run them alternately and compare the ratios rather than the absolute figures,
 * which drift on a shared machine.
 *
 * <p>Run: {@code java -cp <examples class path> io.gyre.examples.bench.MissCostBenchmark [seconds rounds threads
 * accounts eventsPerAccount]} (defaults 2 s, 8 rounds, 8 threads, 5,000 accounts per node, 4 events each);
 * {@code -Dbench.db=h2} for an H2 file instead of PostgreSQL (fsync off); {@code -Dbench.warmup=s} (default 10).
 */
public final class MissCostBenchmark {

    private MissCostBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, threads, accounts per node, events per account
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int accounts = args.length > 3 ? Integer.parseInt(args[3]) : 5_000;
        int events = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        boolean h2 = System.getProperty("bench.db", "postgres").equals("h2");
        try (Databases databases = new Databases()) {
            DataSource dataSource = h2 ? databases.h2(threads * 2 + 2) : databases.postgres(threads * 2 + 2, false);
            ServerCpu server = h2 ? ServerCpu.none() : ServerCpu.of(dataSource, databases.postgresSource());
            JdbcEventStore store = JdbcEventStore.builder(dataSource).dialect(h2 ? Dialect.H2 : Dialect.POSTGRES)
                    .tableNames(TableNames.withPrefix("miss_")).createSchema(true).build();
            try (Gyre cachedNode = Gyre.builder().name("cached").sharedEventStore(store).aggregate(Account.class)
                    .cacheSize(Math.max(accounts, 1)).start();
                 Gyre missNode = Gyre.builder().name("miss").sharedEventStore(store).aggregate(Account.class)
                         .cacheSize(0).start()) {
                CommandGateway cached = cachedNode.commandGateway();
                CommandGateway miss = missNode.commandGateway();
                prepare(cached, "c-", accounts, events);
                prepare(miss, "m-", accounts, events);
                double warmup = Double.parseDouble(System.getProperty("bench.warmup", "10"));
                for (double done = 0; done < warmup; done += 2 * seconds) {
                    round(cached, "c-", accounts, threads, seconds, server);
                    round(miss, "m-", accounts, threads, seconds, server);
                }
                System.out.printf("%s, %d threads, %,d accounts per node, %d events each at the start%n",
                        h2 ? "H2 file" : "PostgreSQL (fsync off)", threads, accounts, events);
                System.out.printf("%6s %10s %10s %9s %9s %9s %9s%n", "round", "cached/s", "miss/s", "CPU hit",
                        "CPU miss", "srv hit", "srv miss");
                double[][] hit = new double[3][rounds];
                double[][] missed = new double[3][rounds];
                for (int r = 0; r < rounds; r++) {
                    double[] a;
                    double[] b;
                    if (r % 2 == 0) {
                        a = round(cached, "c-", accounts, threads, seconds, server);
                        b = round(miss, "m-", accounts, threads, seconds, server);
                    } else {
                        b = round(miss, "m-", accounts, threads, seconds, server);
                        a = round(cached, "c-", accounts, threads, seconds, server);
                    }
                    for (int i = 0; i < 3; i++) {
                        hit[i][r] = a[i];
                        missed[i][r] = b[i];
                    }
                    System.out.printf("%6d %10.0f %10.0f %9.1f %9.1f %9.1f %9.1f%n", r, a[0], b[0], a[1], b[1], a[2],
                            b[2]);
                }
                System.out.printf("median %10.0f %10.0f %9.1f %9.1f %9.1f %9.1f%n", Medians.of(hit[0]),
                        Medians.of(missed[0]), Medians.of(hit[1]), Medians.of(missed[1]), Medians.of(hit[2]),
                        Medians.of(missed[2]));
                double[] cpuDiff = new double[rounds];
                double[] srvDiff = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    cpuDiff[r] = missed[1][r] - hit[1][r];
                    srvDiff[r] = missed[2][r] - hit[2][r];
                }
                System.out.printf("miss ÷ cached: throughput %.3fx, JVM CPU per command %.3fx, server CPU per command "
                                + "%.3fx; a miss adds %.1f µs JVM CPU and %.1f µs server CPU (medians of per-round "
                                + "figures)%n", Medians.ofRatios(missed[0], hit[0]),
                        Medians.ofRatios(missed[1], hit[1]), Medians.ofRatios(missed[2], hit[2]),
                        Medians.of(cpuDiff), Medians.of(srvDiff));
            }
        }
    }

    /** Opens the accounts and gives each {@code events - 1} deposits, many in flight at once. */
    private static void prepare(CommandGateway gateway, String prefix, int accounts, int events) throws Exception {
        Semaphore inFlight = new Semaphore(128);
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (int e = 0; e < events; e++) {
            for (int a = 0; a < accounts; a++) {
                inFlight.acquire();
                Object command = e == 0 ? new OpenAccount(prefix + a, "bench") : new Deposit(prefix + a, 1);
                CompletableFuture<Object> done = gateway.send(command, Metadata.empty(), Duration.ofSeconds(60));
                done.whenComplete((result, failure) -> inFlight.release());
                sent.add(done);
            }
            for (CompletableFuture<Object> each : sent) {
                each.join();
            }
            sent.clear();
        }
    }

    /** @return commands per second, JVM CPU µs and server CPU µs per command */
    private static double[] round(CommandGateway gateway, String prefix, int accounts, int threads, double seconds,
                                  ServerCpu server) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        LongAdder commands = new LongAdder();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread client = new Thread(() -> {
                try {
                    start.await();
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (running.get()) {
                        gateway.sendAndWait(new Deposit(prefix + random.nextInt(accounts), 1), Duration.ofSeconds(30));
                        commands.increment();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "clients-" + t);
            clients.add(client);
            client.start();
        }
        start.await();
        long began = System.nanoTime();
        long cpu = processCpuNanos();
        long serverCpu = server.nanos();
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        long count = commands.sum();
        double elapsed = (System.nanoTime() - began) / 1e9;
        double cpuMicros = (processCpuNanos() - cpu) / 1e3 / count;
        double serverMicros = server.available() ? (server.nanos() - serverCpu) / 1e3 / count : Double.NaN;
        for (Thread client : clients) {
            client.join();
        }
        return new double[] {count / elapsed, cpuMicros, serverMicros};
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
