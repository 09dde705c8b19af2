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
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Commands per second, latency and CPU of one node against three nodes in one JVM on one store, with closed-loop
 * clients spread evenly over the nodes, so that about two thirds of the commands are routed to another member.
 * Latencies are split by whether the command ran on the node it was sent to (local) or was routed (remote).
 *
 * <p>Both clusters stay up for the whole run and their rounds alternate (1, 3, 1, 3, ...), so that the machine
 * drifting (other processes, the database growing) moves both sides alike; the ratios printed are medians of the
 * ratios of neighbouring rounds. The CPU figures are the JVM's CPU time per command (nodes, clients and the
 * store's driver share the process); the cost of routing is the three-node figure minus the one-node figure,
 * divided by the share of routed commands. Thread switches per command (voluntary and involuntary, from
 * {@code /proc}) count the hand-offs between threads, which dominate a routed command's CPU on a small machine.
 * Alternating one-second warm-up rounds run first, and are discarded, until the JIT compiler has settled.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.ClusterBenchmark [-Dexec.args="seconds rounds clients store"]}
 * (defaults: 3 seconds per round, 5 rounds each, 12 clients, store {@code postgres} (embedded PostgreSQL);
 * {@code h2} for the embedded default, {@code memory} to leave the store's cost out and see the bus's alone);
 * {@code -Dbench.maxAppendsPerTransaction=1} turns PostgreSQL's group commit off; {@code -Dbench.tls=true} compares
 * three plain nodes with three using mutual TLS instead.
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
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 12;
        String storeKind = args.length > 3 ? args[3] : "postgres";
        System.out.printf("Cluster benchmark: %d closed-loop clients, %.1f s per round, %d alternating rounds per "
                + "size, store %s, %d processors%n%n", clients, seconds, rounds, storeKind,
                Runtime.getRuntime().availableProcessors());
        try (Databases databases = new Databases()) {
            EventStore store = switch (storeKind) {
                case "h2" -> JdbcEventStore.h2(databases.temporaryFolder("gyre-cluster-bench").resolve("events"));
                case "postgres" -> JdbcEventStore.builder(databases.postgres(64)).createSchema(true)
                        .maxAppendsPerTransaction(Integer.getInteger("bench.maxAppendsPerTransaction", 64)).build();
                case "memory" -> new InMemoryEventStore();
                default -> throw new IllegalArgumentException("store must be h2, postgres or memory, not "
                        + storeKind);
            };
            if (Boolean.getBoolean("bench.tls")) {
                compareTls(store, seconds, rounds, clients);
                return;
            }
            try (Cluster one = new Cluster(1, store, "one", bus -> { });
                 Cluster three = new Cluster(3, store, "three", bus -> { })) {
                warmUp(one, three, clients);
                List<Round> ones = new ArrayList<>();
                List<Round> threes = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    ones.add(one.run(seconds, clients));
                    threes.add(three.run(seconds, clients));
                }
                double[] ratio = new double[rounds];
                double[] routingCpu = new double[rounds];
                double[] routingSwitches = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    ratio[i] = threes.get(i).throughput / ones.get(i).throughput;
                    routingCpu[i] = (threes.get(i).cpuMicrosPerCommand - ones.get(i).cpuMicrosPerCommand)
                            / threes.get(i).remoteShare;
                    routingSwitches[i] = (threes.get(i).switchesPerCommand - ones.get(i).switchesPerCommand)
                            / threes.get(i).remoteShare;
                }
                System.out.printf("%-8s %12s %10s %10s %10s %10s %10s %12s %10s%n", "nodes", "commands/s",
                        "local p50", "local p99", "remote p50", "remote p99", "remote %", "CPU/command", "switches");
                print(1, ones);
                print(3, threes);
                double gap = Medians.of(threes.stream().mapToDouble(r -> r.remoteP50 - r.localP50).toArray());
                System.out.printf("%nremote p50 - local p50 (3 nodes): %.3f ms (target <= 0.3 ms)%n", gap);
                System.out.printf("3-node throughput / 1-node throughput: %.2f (target >= 0.9; rounds %s)%n",
                        Medians.of(ratio), format(ratio));
                System.out.printf("CPU per routed command, above a local one: %.1f µs (target <= 15 µs; rounds %s)%n",
                        Medians.of(routingCpu), format(routingCpu));
                System.out.printf("Thread switches per routed command, above a local one: %.2f (rounds %s)%n",
                        Medians.of(routingSwitches), format(routingSwitches));
            } finally {
                store.close();
            }
        }
    }

    /**
     * Three plain nodes against three with mutual TLS, alternating rounds: what encryption and authentication cost
     * a routed command ({@code -Dbench.tls=true}).
     */
    private static void compareTls(EventStore store, double seconds, int rounds, int clients) throws Exception {
        java.nio.file.Path folder = java.nio.file.Files.createTempDirectory("gyre-bench-tls");
        try {
            io.gyre.routing.jgroups.ClusterTls tls = BenchCertificates.tls(folder);
            try (Cluster plain = new Cluster(3, store, "plain", bus -> { });
                 Cluster secured = new Cluster(3, store, "tls", bus -> bus.tls(tls))) {
                warmUp(plain, secured, clients);
                List<Round> plains = new ArrayList<>();
                List<Round> secureds = new ArrayList<>();
                double[] ratio = new double[rounds];
                double[] cpu = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    plains.add(plain.run(seconds, clients));
                    secureds.add(secured.run(seconds, clients));
                    ratio[round] = secureds.get(round).throughput / plains.get(round).throughput;
                    cpu[round] = secureds.get(round).cpuMicrosPerCommand / plains.get(round).cpuMicrosPerCommand;
                }
                System.out.printf("%-8s %12s %10s %10s %10s %10s %10s %12s %10s%n", "3 nodes", "commands/s",
                        "local p50", "local p99", "remote p50", "remote p99", "remote %", "CPU/command", "switches");
                print("plain", plains);
                print("tls", secureds);
                System.out.printf("%nTLS throughput / plain: %.2f (rounds %s); TLS CPU per command / plain: %.2f%n",
                        Medians.of(ratio), format(ratio), Medians.of(cpu));
            }
        } finally {
            io.gyre.examples.bank.TempFolders.deleteRecursively(folder);
        }
    }

    /** Shortest and longest warm-up, in rounds of each cluster. */
    private static final int MIN_WARM_UP_ROUNDS = 3;
    private static final int MAX_WARM_UP_ROUNDS = 15;
    private static final double WARM_UP_SECONDS = 1;

    /**
     * Alternating one-second rounds of both clusters, discarded, until the JIT compiler has settled: a pair of rounds
     * during which it compiled for less than 3% of the time, after at least {@value #MIN_WARM_UP_ROUNDS} pairs. Until
     * then, medians mix interpreted, C1 and C2 code, and the first cluster measured pays for the code both share.
     */
    private static void warmUp(Cluster first, Cluster second, int clients) throws Exception {
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
        long compiledMillis = -1;
        int pairs = 0;
        while (pairs < MAX_WARM_UP_ROUNDS) {
            long before = measurable ? jit.getTotalCompilationTime() : 0;
            long began = System.nanoTime();
            Round a = first.run(WARM_UP_SECONDS, clients);
            Round b = second.run(WARM_UP_SECONDS, clients);
            long wallMillis = (System.nanoTime() - began) / 1_000_000;
            compiledMillis = measurable ? jit.getTotalCompilationTime() - before : -1;
            pairs++;
            System.out.printf("warm-up %2d: %.0f and %.0f commands/s, JIT compiled for %d ms of %d ms%n", pairs,
                    a.throughput, b.throughput, compiledMillis, wallMillis);
            if (pairs >= MIN_WARM_UP_ROUNDS && (!measurable || compiledMillis * 100 < 3 * wallMillis)) {
                break;
            }
        }
        System.out.printf("warm-up: %d round pairs discarded%s%n%n", pairs,
                pairs == MAX_WARM_UP_ROUNDS ? " (the JIT compiler had not settled; figures may drift)" : "");
    }

    private static String format(double[] values) {
        StringBuilder text = new StringBuilder();
        for (double value : values) {
            text.append(text.length() == 0 ? "" : " ").append(String.format("%.2f", value));
        }
        return text.toString();
    }

    private static void print(int nodes, List<Round> rounds) {
        print(Integer.toString(nodes), rounds);
    }

    private static void print(String nodes, List<Round> rounds) {
        System.out.printf("%-8s %12.0f %9.3fms %9.3fms %9sms %9sms %9.0f%% %10.1fµs %10.2f%n", nodes,
                median(rounds, r -> r.throughput), median(rounds, r -> r.localP50), median(rounds, r -> r.localP99),
                format(median(rounds, r -> r.remoteP50)), format(median(rounds, r -> r.remoteP99)),
                100 * median(rounds, r -> r.remoteShare), median(rounds, r -> r.cpuMicrosPerCommand),
                median(rounds, r -> r.switchesPerCommand));
    }

    private static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> value) {
        return Medians.of(rounds.stream().mapToDouble(value).toArray());
    }

    private static String format(double millis) {
        return Double.isNaN(millis) ? "-" : String.format("%.3f", millis);
    }

    private record Round(double throughput, double localP50, double localP99, double remoteP50, double remoteP99,
                         double remoteShare, double cpuMicrosPerCommand, double switchesPerCommand) {
    }

    /**
     * Context switches (voluntary and not) of every thread of this process that is alive now, by thread id, from
     * {@code /proc/self/task/<tid>/status}; empty where there is no such file system. A switch is a thread that went to
     * sleep or was preempted, so per command it counts the hand-offs (wake-ups) a command costs.
     */
    private static java.util.Map<String, Long> threadSwitches() {
        java.util.Map<String, Long> switches = new java.util.HashMap<>();
        java.nio.file.Path tasks = java.nio.file.Path.of("/proc/self/task");
        if (!java.nio.file.Files.isDirectory(tasks)) {
            return switches;
        }
        try (java.util.stream.Stream<java.nio.file.Path> all = java.nio.file.Files.list(tasks)) {
            for (java.nio.file.Path task : (Iterable<java.nio.file.Path>) all::iterator) {
                long sum = switchesOf(task.resolve("status"));
                if (sum >= 0) {
                    switches.put(task.getFileName().toString(), sum);
                }
            }
        } catch (java.io.IOException e) {
            return switches;
        }
        return switches;
    }

    /** @return the thread's voluntary and involuntary switches from its status file, -1 when it is gone */
    private static long switchesOf(java.nio.file.Path status) {
        try {
            long sum = 0;
            for (String line : java.nio.file.Files.readAllLines(status)) {
                if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                    sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            return sum;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return the calling thread's switches so far, -1 where it cannot be read */
    private static long ownSwitches() {
        return switchesOf(java.nio.file.Path.of("/proc/thread-self/status"));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Nodes of one cluster over the shared store, with accounts of their own. */
    private static final class Cluster implements AutoCloseable {

        private final List<Gyre> nodes = new ArrayList<>();
        private final List<JGroupsCommandBus> buses = new ArrayList<>();
        private final String prefix;
        private final HashRing ring;
        private final String type;

        Cluster(int size, EventStore store, String prefix,
                java.util.function.Consumer<JGroupsCommandBus.Builder> customize) throws InterruptedException {
            this.prefix = prefix;
            String cluster = "bench-" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
            int port = prefix.equals("one") || prefix.equals("plain") ? 7800 : 7850;
            for (int i = 0; i < size; i++) {
                JGroupsCommandBus.Builder builder = JGroupsCommandBus.builder().cluster(cluster)
                        .nodeName(prefix + "-" + i).bindPort(port, 20);
                customize.accept(builder);
                JGroupsCommandBus bus = builder.build();
                buses.add(bus);
                nodes.add(Gyre.builder().name(prefix + "-" + i).sharedEventStore(store).aggregate(Account.class)
                        .commandBus(bus).start());
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (buses.stream().anyMatch(bus -> bus.members().size() != size)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the cluster did not form");
                }
                Thread.sleep(20);
            }
            for (int a = 0; a < ACCOUNTS; a++) {
                nodes.get(a % size).commandGateway().sendAndWait(new OpenAccount(account(a), "owner"));
            }
            ring = buses.get(0).ring();
            type = "Account"; // the aggregate type routed on: @Aggregate names it after its simple class name
        }

        private String account(int index) {
            return prefix + "-acc-" + index;
        }

        Round run(double seconds, int clients) throws Exception {
            int size = nodes.size();
            // Sized for the round, not for the fastest machine: zeroing 2 x 16 MB per client made short rounds slow.
            int capacity = (int) Math.min(2_000_000, Math.max(10_000, seconds * 200_000 / clients));
            List<long[]> localNanos = new ArrayList<>();
            List<long[]> remoteNanos = new ArrayList<>();
            int[] counts = new int[clients * 2];
            // Client threads end with the round, so each reads its own count; the rest are read before and after.
            long[] clientSwitches = new long[clients];
            AtomicBoolean running = new AtomicBoolean(true);
            CyclicBarrier start = new CyclicBarrier(clients + 1);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                Gyre node = nodes.get(c % size);
                String nodeName = prefix + "-" + (c % size);
                long[] mineLocal = new long[capacity];
                long[] mineRemote = new long[capacity];
                localNanos.add(mineLocal);
                remoteNanos.add(mineRemote);
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                        long switchesBefore = ownSwitches();
                        while (running.get()) {
                            String account = account(ThreadLocalRandom.current().nextInt(ACCOUNTS));
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
                        clientSwitches[client] = ownSwitches() - switchesBefore;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                thread.start();
                threads.add(thread);
            }
            java.util.Map<String, Long> switchesBefore = threadSwitches();
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
            long switches = 0;
            for (java.util.Map.Entry<String, Long> after : threadSwitches().entrySet()) {
                Long before = switchesBefore.get(after.getKey());
                if (before != null) {
                    switches += after.getValue() - before; // the clients have ended: not among these
                }
            }
            for (long own : clientSwitches) {
                switches += own;
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
            double[] local = localMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double[] remote = remoteMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            long total = localCount + remoteCount;
            return new Round(total / elapsed, percentile(local, 0.5), percentile(local, 0.99),
                    percentile(remote, 0.5), percentile(remote, 0.99), (double) remoteCount / total,
                    cpuUsed / 1e3 / total, (double) switches / total);
        }

        @Override
        public void close() {
            for (Gyre node : nodes) {
                node.close();
            }
        }
    }

    private static double percentile(double[] sorted, double quantile) {
        return sorted.length == 0 ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.floor(quantile * sorted.length))];
    }
}
