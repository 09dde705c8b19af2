package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
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
 * Alternating one-second warm-up rounds run first, and are discarded, until the JIT compiler has settled. Each
 * round also reads every thread's CPU time and prints it by thread group ({@link ThreadCpu}), and the CPU per routed
 * command counted on the command path's threads alone, which lumps of compilation and collection do not move.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.ClusterBenchmark [-Dexec.args="seconds rounds clients store"]}
 * (defaults: 3 seconds per round, 5 rounds each, 12 clients, store {@code postgres} (embedded PostgreSQL);
 * {@code h2} for the embedded default, {@code memory} to leave the store's cost out and see the bus's alone, on a
 * store that keeps only each stream's last few events, so that it does not grow from round to round);
 * {@code -Dbench.maxAppendsPerTransaction=1} turns PostgreSQL's group commit off; {@code -Dbench.tls=true} compares
 * three plain nodes with three using mutual TLS instead; {@code -Dbench.floor=true} also measures bare request/reply
 * round trips through the three nodes' own channels ({@link TransportFloor}), the floor under a routed command's cost;
 * {@code -Dbench.bundler} and {@code -Dbench.nonBlockingSends} change the three nodes' transport
 * ({@link #transportOptions}).
 */
public final class ClusterBenchmark {

    private static final int ACCOUNTS = 1_000;
    /** The embedded PostgreSQL server's CPU, or none. */
    private static ServerCpu server = ServerCpu.none();

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
            javax.sql.DataSource postgres = storeKind.equals("postgres") ? databases.postgres(64) : null;
            server = postgres == null ? ServerCpu.none() : ServerCpu.of(postgres, databases.postgresSource());
            EventStore store = switch (storeKind) {
                case "h2" -> JdbcEventStore.h2(databases.temporaryFolder("gyre-cluster-bench").resolve("events"));
                case "postgres" -> JdbcEventStore.builder(postgres).createSchema(true)
                        .maxAppendsPerTransaction(Integer.getInteger("bench.maxAppendsPerTransaction", 64)).build();
                case "memory" -> new RecentEventsStore();
                default -> throw new IllegalArgumentException("store must be h2, postgres or memory, not "
                        + storeKind);
            };
            if (Boolean.getBoolean("bench.tls")) {
                compareTls(store, seconds, rounds, clients);
                return;
            }
            TransportFloor floor = Boolean.getBoolean("bench.floor") ? new TransportFloor() : null;
            try (Cluster one = new Cluster(1, store, "one", bus -> { });
                 Cluster three = new Cluster(3, store, "three", bus -> bus.customizeStack(stack -> {
                     transportOptions(stack);
                     if (floor != null) {
                         stack.add(floor.newEcho());
                     }
                 }))) {
                warmUp(one, three, clients);
                if (floor != null) {
                    for (int i = 0; i < MIN_WARM_UP_ROUNDS; i++) {
                        floor.run(WARM_UP_SECONDS, clients);
                    }
                }
                List<Round> ones = new ArrayList<>();
                List<Round> threes = new ArrayList<>();
                List<TransportFloor.Round> floors = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    ones.add(one.run(seconds, clients));
                    threes.add(three.run(seconds, clients));
                    if (floor != null) {
                        floors.add(floor.run(seconds, clients));
                    }
                }
                double[] ratio = new double[rounds];
                double[] routingCpu = new double[rounds];
                double[] routingSwitches = new double[rounds];
                double[] routingCpuOfPath = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    ratio[i] = threes.get(i).throughput / ones.get(i).throughput;
                    routingCpu[i] = (threes.get(i).cpuMicrosPerCommand - ones.get(i).cpuMicrosPerCommand)
                            / threes.get(i).remoteShare;
                    routingSwitches[i] = (threes.get(i).switchesPerCommand - ones.get(i).switchesPerCommand)
                            / threes.get(i).remoteShare;
                    routingCpuOfPath[i] = (threes.get(i).cpuMicrosOfCommandPath()
                            - ones.get(i).cpuMicrosOfCommandPath()) / threes.get(i).remoteShare;
                }
                System.out.printf("%-8s %12s %10s %10s %10s %10s %10s %12s %10s%n", "nodes", "commands/s",
                        "local p50", "local p99", "remote p50", "remote p99", "remote %", "CPU/command", "switches");
                print(1, ones);
                print(3, threes);
                if (server.available()) {
                    System.out.printf("%nPostgreSQL server CPU per command: 1 node %.1f µs, 3 nodes %.1f µs%n",
                            median(ones, Round::serverMicrosPerCommand), median(threes, Round::serverMicrosPerCommand));
                }
                double gap = Medians.of(threes.stream().mapToDouble(r -> r.remoteP50 - r.localP50).toArray());
                System.out.printf("%nremote p50 - local p50 (3 nodes): %.3f ms (target <= 0.3 ms)%n", gap);
                System.out.printf("3-node throughput / 1-node throughput: %.2f (target >= 0.9; rounds %s)%n",
                        Medians.of(ratio), format(ratio));
                System.out.printf("CPU per routed command, above a local one: %.1f µs (target <= 15 µs; rounds %s)%n",
                        Medians.of(routingCpu), format(routingCpu));
                System.out.printf("Thread switches per routed command, above a local one: %.2f (rounds %s)%n",
                        Medians.of(routingSwitches), format(routingSwitches));
                System.out.printf("CPU per routed command on the command path's threads only, above a local one: "
                        + "%.1f µs (rounds %s)%n", Medians.of(routingCpuOfPath), format(routingCpuOfPath));
                if (floor != null) {
                    floor.close();
                    printFloor(floors, routingCpu, routingCpuOfPath, routingSwitches);
                }
                System.out.printf("%nCPU per command by thread group, µs (the command path is %s):%n",
                        String.join(", ", ThreadCpu.COMMAND_PATH));
                for (int i = 0; i < rounds; i++) {
                    System.out.printf("round %d  1 node: %s%n", i + 1, breakdown(ones.get(i)));
                    System.out.printf("round %d 3 nodes: %s%n", i + 1, breakdown(threes.get(i)));
                }
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

    /**
     * The transport's floor ({@code -Dbench.floor=true}): bare request/reply round trips through the three-node
     * cluster's own channels, measured in rounds alternating with the commands', next to what a routed command costs
     * above a local one.
     */
    private static void printFloor(List<TransportFloor.Round> floors, double[] routingCpu, double[] routingCpuOfPath,
                                   double[] routingSwitches) {
        double cpu = Medians.of(floors.stream().mapToDouble(TransportFloor.Round::cpuMicros).toArray());
        double path = Medians.of(floors.stream().mapToDouble(TransportFloor.Round::pathCpuMicros).toArray());
        double switches = Medians.of(floors.stream().mapToDouble(TransportFloor.Round::switches).toArray());
        System.out.printf("%nThe transport's floor, bare JGroups request and reply between two of the three members "
                + "(same channels, every one remote):%n");
        System.out.printf("  %,.0f round trips/s, p50 %.3f ms, p99 %.3f ms%n",
                Medians.of(floors.stream().mapToDouble(TransportFloor.Round::perSecond).toArray()),
                Medians.of(floors.stream().mapToDouble(TransportFloor.Round::p50Millis).toArray()),
                Medians.of(floors.stream().mapToDouble(TransportFloor.Round::p99Millis).toArray()));
        System.out.printf("  CPU per round trip %.1f µs (path threads %.1f µs), %.2f thread switches%n", cpu, path,
                switches);
        System.out.printf("  a routed command above a local one: CPU %.1f µs = %.2f x the floor; path threads %.1f µs "
                + "= %.2f x; switches %.2f = %.2f x%n", Medians.of(routingCpu), Medians.of(routingCpu) / cpu,
                Medians.of(routingCpuOfPath), Medians.of(routingCpuOfPath) / path, Medians.of(routingSwitches),
                Medians.of(routingSwitches) / switches);
    }

    /**
     * Transport settings to try against the default stack, on the three-node cluster only: {@code -Dbench.bundler=}
     * a JGroups bundler type (the default stack has none), {@code -Dbench.nonBlockingSends=false} (the default stack
     * sends through a writer thread per connection).
     */
    private static void transportOptions(List<org.jgroups.stack.Protocol> stack) {
        org.jgroups.protocols.TP transport = (org.jgroups.protocols.TP) stack.get(0);
        String bundler = System.getProperty("bench.bundler");
        if (bundler != null) {
            transport.setBundlerType(bundler);
        }
        String nonBlocking = System.getProperty("bench.nonBlockingSends");
        if (nonBlocking != null && transport instanceof org.jgroups.protocols.TCP tcp) {
            tcp.nonBlockingSends(Boolean.parseBoolean(nonBlocking));
        }
    }

    /** Shortest and longest warm-up, in rounds of each cluster. */
    private static final int MIN_WARM_UP_ROUNDS = 3;
    private static final int MAX_WARM_UP_ROUNDS = 15;
    private static final double WARM_UP_SECONDS = 1;

    /**
     * Alternating one-second rounds of both clusters, discarded, until the JIT compiler has settled: a pair of rounds
     * during which its threads took less than 3% of the process's CPU, after at least {@value #MIN_WARM_UP_ROUNDS}
     * pairs. Until then, medians mix interpreted, C1 and C2 code, and the first cluster measured pays for the code
     * both share. The compilers' CPU is what counts, not the compilation time the JVM reports: that is wall time,
     * which on a loaded machine (a compiler thread waiting for a core) stays near the round's length for ever.
     */
    private static void warmUp(Cluster first, Cluster second, int clients) throws Exception {
        int pairs = 0;
        while (pairs < MAX_WARM_UP_ROUNDS) {
            long cpuBefore = processCpuNanos();
            java.util.Map<String, ThreadCpu.Sample> before = ThreadCpu.now();
            Round a = first.run(WARM_UP_SECONDS, clients);
            Round b = second.run(WARM_UP_SECONDS, clients);
            long cpu = processCpuNanos() - cpuBefore;
            long jit = ThreadCpu.spent(before, ThreadCpu.now()).getOrDefault("jit", 0L);
            pairs++;
            System.out.printf("warm-up %2d: %.0f and %.0f commands/s, JIT compiler %.1f%% of the CPU%n", pairs,
                    a.throughput, b.throughput, 100.0 * jit / Math.max(1, cpu));
            if (Boolean.getBoolean("bench.cpuByThread")) {
                System.out.printf("    %s%n    %s%n", breakdown(a), breakdown(b));
            }
            if (pairs >= MIN_WARM_UP_ROUNDS && jit * 100 < 3 * cpu) {
                break;
            }
        }
        System.out.printf("warm-up: %d round pairs discarded%s%n%n", pairs,
                pairs == MAX_WARM_UP_ROUNDS ? " (the JIT compiler had not settled; figures may drift)" : "");
    }

    private static String breakdown(Round round) {
        StringBuilder text = new StringBuilder(String.format("%.0f/s total %.1f = path %.1f:",
                round.throughput, round.cpuMicrosPerCommand, round.cpuMicrosOfCommandPath()));
        double seen = 0;
        for (java.util.Map.Entry<String, Double> group : round.cpuMicrosByGroup.entrySet()) {
            text.append(String.format(" %s %.1f", group.getKey(), group.getValue()));
            seen += group.getValue();
        }
        return text.append(String.format(" unseen %.1f", round.cpuMicrosPerCommand - seen)).toString();
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
                         double remoteShare, double cpuMicrosPerCommand, double switchesPerCommand,
                         java.util.Map<String, Double> cpuMicrosByGroup, double serverMicrosPerCommand) {

        /**
         * @return CPU per command of the threads a command passes through ({@link ThreadCpu#COMMAND_PATH}), without
         *         the compiler's, the collector's, timers' and the benchmark's: the figure that moves least from round
         *         to round, since those come in lumps (a collection, a compilation) that land in whichever round they
         *         fall in, whatever its commands
         */
        double cpuMicrosOfCommandPath() {
            double sum = 0;
            for (String group : ThreadCpu.COMMAND_PATH) {
                sum += cpuMicrosByGroup.getOrDefault(group, 0.0);
            }
            return sum;
        }
    }

    private static java.util.Map<String, Double> perCommand(java.util.Map<String, Long> nanos, long commands) {
        java.util.Map<String, Double> micros = new java.util.TreeMap<>();
        nanos.forEach((group, spent) -> micros.put(group, spent / 1e3 / commands));
        return micros;
    }

    /**
     * Context switches (voluntary and not) of every thread of this process that is alive now, by thread id, from
     * {@code /proc/self/task/<tid>/status}; empty where there is no such file system. A switch is a thread that went to
     * sleep or was preempted, so per command it counts the hand-offs (wake-ups) a command costs.
     */
    static java.util.Map<String, Long> threadSwitches() {
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

    /** @return this process's CPU time so far, all threads */
    static long processCpuNanos() {
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
        private @org.jspecify.annotations.Nullable List<Thread> clients;
        private CyclicBarrier roundStart;
        private CyclicBarrier roundEnd;
        /** The round the clients fill; null tells them to end. */
        private volatile @org.jspecify.annotations.Nullable Sheet current;

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

        /**
         * Runs one round with closed-loop clients. The client threads are started with the first round and kept
         * (the same number every round): new threads each round would pay their start, their first allocations
         * and, ending before the CPU is read, would escape {@link ThreadCpu}.
         */
        Round run(double seconds, int clients) throws Exception {
            if (this.clients == null) {
                startClients(clients);
            } else if (this.clients.size() != clients) {
                throw new IllegalArgumentException("this cluster runs " + this.clients.size() + " clients, not "
                        + clients);
            }
            // Sized for the round, not for the fastest machine: zeroing 2 x 16 MB per client made short rounds slow.
            int capacity = (int) Math.min(2_000_000, Math.max(10_000, seconds * 200_000 / clients));
            Sheet sheet = new Sheet(clients, capacity);
            current = sheet;
            java.util.Map<String, Long> switchesBefore = threadSwitches();
            java.util.Map<String, ThreadCpu.Sample> threadCpuBefore = ThreadCpu.now();
            long cpuBefore = processCpuNanos();
            long serverBefore = server.nanos();
            roundStart.await();
            long began = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            sheet.running = false;
            roundEnd.await();
            double elapsed = (System.nanoTime() - began) / 1e9;
            long cpuUsed = processCpuNanos() - cpuBefore;
            long serverUsed = server.nanos() - serverBefore;
            java.util.Map<String, Long> byGroup = ThreadCpu.spent(threadCpuBefore, ThreadCpu.now());
            long switches = 0;
            for (java.util.Map.Entry<String, Long> after : threadSwitches().entrySet()) {
                Long before = switchesBefore.get(after.getKey());
                switches += after.getValue() - (before == null ? 0 : before);
            }
            long localCount = 0;
            long remoteCount = 0;
            List<Double> localMillis = new ArrayList<>();
            List<Double> remoteMillis = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                localCount += sheet.counts[c * 2];
                remoteCount += sheet.counts[c * 2 + 1];
                for (int i = 0; i < Math.min(sheet.counts[c * 2], capacity); i++) {
                    localMillis.add(sheet.localNanos[c][i] / 1e6);
                }
                for (int i = 0; i < Math.min(sheet.counts[c * 2 + 1], capacity); i++) {
                    remoteMillis.add(sheet.remoteNanos[c][i] / 1e6);
                }
            }
            double[] local = localMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double[] remote = remoteMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            long total = localCount + remoteCount;
            return new Round(total / elapsed, percentile(local, 0.5), percentile(local, 0.99),
                    percentile(remote, 0.5), percentile(remote, 0.99), (double) remoteCount / total,
                    cpuUsed / 1e3 / total, (double) switches / total, perCommand(byGroup, total),
                    server.available() ? serverUsed / 1e3 / total : Double.NaN);
        }

        private void startClients(int count) {
            clients = new ArrayList<>();
            roundStart = new CyclicBarrier(count + 1);
            roundEnd = new CyclicBarrier(count + 1);
            int size = nodes.size();
            for (int c = 0; c < count; c++) {
                int client = c;
                Gyre node = nodes.get(c % size);
                String nodeName = prefix + "-" + (c % size);
                Thread thread = new Thread(() -> {
                    try {
                        while (true) {
                            roundStart.await();
                            Sheet sheet = current;
                            if (sheet == null) {
                                return; // closed
                            }
                            sheet.fill(client, () -> {
                                String account = account(ThreadLocalRandom.current().nextInt(ACCOUNTS));
                                boolean isLocal = ring.owner(account, type).id().equals(nodeName);
                                long before = System.nanoTime();
                                node.commandGateway().sendAndWait(new Deposit(account, 1), Duration.ofSeconds(30));
                                return isLocal ? System.nanoTime() - before : -(System.nanoTime() - before) - 1;
                            });
                            roundEnd.await();
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "bench-client-" + c);
                thread.setDaemon(true);
                thread.start();
                clients.add(thread);
            }
        }

        @Override
        public void close() {
            if (clients != null) {
                current = null;
                try {
                    roundStart.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    for (Thread client : clients) {
                        client.join(30_000);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (java.util.concurrent.BrokenBarrierException | java.util.concurrent.TimeoutException e) {
                    // A client failed; they are daemon threads, and the nodes close below all the same.
                }
            }
            for (Gyre node : nodes) {
                node.close();
            }
        }
    }

    /** What the clients of one round measured: latencies by client, split into local and routed commands. */
    private static final class Sheet {

        final long[][] localNanos;
        final long[][] remoteNanos;
        final int[] counts;
        volatile boolean running = true;

        Sheet(int clients, int capacity) {
            localNanos = new long[clients][capacity];
            remoteNanos = new long[clients][capacity];
            counts = new int[clients * 2];
        }

        /**
         * @param client  the client's index
         * @param command sends one command and returns its latency in nanoseconds, as {@code -latency - 1} when it
         *                was routed
         */
        void fill(int client, Send command) throws Exception {
            while (running) {
                long took = command.call();
                boolean isLocal = took >= 0;
                int slot = client * 2 + (isLocal ? 0 : 1);
                long[] into = isLocal ? localNanos[client] : remoteNanos[client];
                if (counts[slot] < into.length) {
                    into[counts[slot]] = isLocal ? took : -took - 1;
                }
                counts[slot]++;
            }
        }

        /** One command of a client, timed (without boxing the figure: the clients' CPU is measured too). */
        interface Send {
            long call() throws Exception;
        }
    }

    private static double percentile(double[] sorted, double quantile) {
        return sorted.length == 0 ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.floor(quantile * sorted.length))];
    }
}
