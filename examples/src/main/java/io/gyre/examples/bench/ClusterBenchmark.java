package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.OpenAccount;
import io.gyre.routing.HashRing;
import io.gyre.routing.jgroups.JGroupsCommandBus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Commands per second and latency of one node against three nodes in one JVM, with closed-loop clients spread
 * evenly over the nodes, so that about two thirds of the commands are routed to another member. Latencies are
 * split by whether the command ran on the node it was sent to (local) or was routed (remote).
 *
 * <p>It also reports the JVM's CPU time per command (all nodes, clients and the store's driver share the process),
 * and from the difference between the two sizes the CPU a routed command costs on top of a local one: the
 * three-node figure minus the one-node figure, divided by the share of routed commands.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.ClusterBenchmark [-Dexec.args="seconds rounds clients store"]}
 * (defaults: 3 seconds per round, 3 rounds, 12 clients, store {@code postgres} (embedded PostgreSQL); {@code h2}
 * for the embedded default, {@code memory} to leave the store's cost out and see the bus's alone);
 * {@code -Dbench.maxAppendsPerTransaction=1} turns PostgreSQL's group commit off.
 */
public final class ClusterBenchmark {

    private static final int ACCOUNTS = 1_000;

    private ClusterBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, clients, store
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 12;
        String storeKind = args.length > 3 ? args[3] : "postgres";
        System.out.printf("Cluster benchmark: %d closed-loop clients, %.1f s per round, median of %d rounds, store %s,"
                + " %d processors%n%n", clients, seconds, rounds, storeKind, Runtime.getRuntime().availableProcessors());
        Result one = measure(1, seconds, rounds, clients, storeKind);
        Result three = measure(3, seconds, rounds, clients, storeKind);
        System.out.printf("%-8s %12s %10s %10s %10s %10s %10s %12s%n", "nodes", "commands/s", "local p50",
                "local p99", "remote p50", "remote p99", "remote %", "CPU/command");
        for (Result result : List.of(one, three)) {
            System.out.printf("%-8d %12.0f %9.3fms %9.3fms %9sms %9sms %9.0f%% %10.1fµs%n", result.nodes,
                    result.throughput, result.localP50, result.localP99, format(result.remoteP50),
                    format(result.remoteP99), 100 * result.remoteShare, result.cpuMicrosPerCommand);
        }
        System.out.printf("%nremote p50 - local p50 (3 nodes): %.3f ms (target <= 0.3 ms)%n",
                three.remoteP50 - three.localP50);
        System.out.printf("3-node throughput / 1-node throughput: %.2f (target >= 0.9)%n",
                three.throughput / one.throughput);
        System.out.printf("CPU per routed command, above a local one: %.1f µs (target <= 15 µs)%n",
                (three.cpuMicrosPerCommand - one.cpuMicrosPerCommand) / three.remoteShare);
    }

    private static String format(double millis) {
        return Double.isNaN(millis) ? "-" : String.format("%.3f", millis);
    }

    private record Result(int nodes, double throughput, double localP50, double localP99, double remoteP50,
                          double remoteP99, double remoteShare, double cpuMicrosPerCommand) {
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static Result measure(int nodeCount, double seconds, int rounds, int clients, String storeKind)
            throws Exception {
        Databases databases = new Databases();
        EventStore store = switch (storeKind) {
            case "h2" -> JdbcEventStore.h2(databases.temporaryFolder("gyre-cluster-bench").resolve("events"));
            case "postgres" -> JdbcEventStore.builder(databases.postgres(64)).createSchema(true)
                    .maxAppendsPerTransaction(Integer.getInteger("bench.maxAppendsPerTransaction", 64)).build();
            case "memory" -> new InMemoryEventStore();
            default -> throw new IllegalArgumentException("store must be h2, postgres or memory, not " + storeKind);
        };
        String cluster = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        List<Gyre> nodes = new ArrayList<>();
        List<JGroupsCommandBus> buses = new ArrayList<>();
        try {
            for (int i = 0; i < nodeCount; i++) {
                JGroupsCommandBus bus = JGroupsCommandBus.builder().cluster(cluster).nodeName("node-" + i).build();
                buses.add(bus);
                nodes.add(Gyre.builder().name("node-" + i).sharedEventStore(store).aggregate(Account.class)
                        .commandBus(bus).start());
            }
            awaitRing(buses, nodeCount);
            for (int a = 0; a < ACCOUNTS; a++) {
                nodes.get(a % nodeCount).commandGateway().sendAndWait(new OpenAccount("acc-" + a, "owner"));
            }
            HashRing ring = buses.get(0).ring();
            String type = nodes.get(0).serializer().types().nameOf(Deposit.class);
            double[] throughput = new double[rounds];
            double[][] local = new double[rounds][];
            double[][] remote = new double[rounds][];
            double[] remoteShare = new double[rounds];
            double[] cpuPerCommand = new double[rounds];
            for (int round = -1; round < rounds; round++) {
                List<long[]> localNanos = new ArrayList<>();
                List<long[]> remoteNanos = new ArrayList<>();
                int[] counts = new int[clients * 2];
                AtomicBoolean running = new AtomicBoolean(true);
                CyclicBarrier start = new CyclicBarrier(clients + 1);
                List<Thread> threads = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int client = c;
                    Gyre node = nodes.get(c % nodeCount);
                    String nodeName = "node-" + (c % nodeCount);
                    long[] mineLocal = new long[2_000_000];
                    long[] mineRemote = new long[2_000_000];
                    localNanos.add(mineLocal);
                    remoteNanos.add(mineRemote);
                    Thread thread = new Thread(() -> {
                        try {
                            start.await();
                            while (running.get()) {
                                String account = "acc-" + ThreadLocalRandom.current().nextInt(ACCOUNTS);
                                boolean isLocal = ring.owner(account, type).id().equals(nodeName);
                                long before = System.nanoTime();
                                node.commandGateway().sendAndWait(new Deposit(account, 1), Duration.ofSeconds(30));
                                long took = System.nanoTime() - before;
                                int slot = client * 2 + (isLocal ? 0 : 1);
                                long[] into = isLocal ? mineLocal : mineRemote;
                                if (counts[slot] < into.length) {
                                    into[counts[slot]] = took;
                                }
                                counts[slot]++;
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    thread.start();
                    threads.add(thread);
                }
                start.await();
                long began = System.nanoTime();
                long cpuBefore = processCpuNanos();
                Thread.sleep((long) (seconds * 1000));
                running.set(false);
                for (Thread thread : threads) {
                    thread.join();
                }
                double elapsed = (System.nanoTime() - began) / 1e9;
                long cpuUsed = processCpuNanos() - cpuBefore;
                if (round < 0) {
                    continue;
                }
                long localCount = 0;
                long remoteCount = 0;
                List<Double> localMillis = new ArrayList<>();
                List<Double> remoteMillis = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    localCount += counts[c * 2];
                    remoteCount += counts[c * 2 + 1];
                    for (int i = 0; i < Math.min(counts[c * 2], localNanos.get(c).length); i++) {
                        localMillis.add(localNanos.get(c)[i] / 1e6);
                    }
                    for (int i = 0; i < Math.min(counts[c * 2 + 1], remoteNanos.get(c).length); i++) {
                        remoteMillis.add(remoteNanos.get(c)[i] / 1e6);
                    }
                }
                throughput[round] = (localCount + remoteCount) / elapsed;
                local[round] = localMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                remote[round] = remoteMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                remoteShare[round] = (double) remoteCount / (localCount + remoteCount);
                cpuPerCommand[round] = cpuUsed / 1e3 / (localCount + remoteCount);
            }
            return new Result(nodeCount, Medians.of(throughput), Medians.of(percentiles(local, 0.5)),
                    Medians.of(percentiles(local, 0.99)), Medians.of(percentiles(remote, 0.5)),
                    Medians.of(percentiles(remote, 0.99)), Medians.of(remoteShare), Medians.of(cpuPerCommand));
        } finally {
            for (Gyre node : nodes) {
                node.close();
            }
            store.close();
            // Deletes the H2 folder too, now that the store has closed the database in it.
            databases.close();
        }
    }

    private static void awaitRing(List<JGroupsCommandBus> buses, int members) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (buses.stream().anyMatch(bus -> bus.members().size() != members)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the cluster did not form");
            }
            Thread.sleep(20);
        }
    }

    private static double[] percentiles(double[][] sortedRounds, double quantile) {
        double[] values = new double[sortedRounds.length];
        for (int i = 0; i < sortedRounds.length; i++) {
            double[] sorted = sortedRounds[i];
            values[i] = sorted.length == 0 ? Double.NaN
                    : sorted[Math.min(sorted.length - 1, (int) Math.floor(quantile * sorted.length))];
        }
        return values;
    }
}
