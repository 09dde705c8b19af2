package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.OpenAccount;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * What one command costs a node's JVM: closed-loop clients send deposits to 1,000 accounts through the gateway of
 * one node, and the benchmark reports commands per second, process CPU time per command and the latency median and
 * 99th percentile. On the in-memory store the CPU is Gyre's own (gateway, bus, repository, serialization); on an
 * H2 file it includes the embedded database, as a node using the default store pays it.
 *
 * <p>To compare two builds of Gyre (before and after a change) in one run, {@code -Dbench.compare=<class path>}
 * names the other build's classes (core and eventstore-jdbc, put first on the class path): each round then runs the
 * measurement once per build, in fresh JVMs, taking turns and alternating which goes first, and the table shows
 * the medians of each and the medians of the per-round ratios, so that a machine shared with other work drifts on
 * both alike.
 *
 * <p>Run: {@code java -cp <examples class path> io.gyre.examples.bench.CommandPathBenchmark [seconds rounds
 * clients...]} (defaults: 3 seconds per measurement after as long a warm-up, 5 rounds, clients 8 64);
 * {@code -Dbench.store=memory} or {@code h2} runs one store only.
 */
public final class CommandPathBenchmark {

    private static final int ACCOUNTS = 1_000;
    private static final int MAX_SAMPLES_PER_CLIENT = 1 << 16;

    private CommandPathBenchmark() {
    }

    /**
     * One measurement: commands per second; CPU microseconds per command of the whole process and of the Java
     * threads alone (clients and the node's threads, without the JIT compiler and the garbage collector, which a
     * short run on a busy machine makes noisy); latency in microseconds.
     */
    record Result(double perSecond, double cpuMicros, double javaCpuMicros, double p50Micros, double p99Micros) {
        String line() {
            return "RESULT " + perSecond + " " + cpuMicros + " " + javaCpuMicros + " " + p50Micros + " " + p99Micros;
        }

        static Result parse(String line) {
            String[] parts = line.split(" ");
            return new Result(Double.parseDouble(parts[1]), Double.parseDouble(parts[2]),
                    Double.parseDouble(parts[3]), Double.parseDouble(parts[4]), Double.parseDouble(parts[5]));
        }
    }

    /**
     * @param args seconds per measurement, rounds, then client counts; or {@code --child store clients seconds}
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            System.out.println(measure(args[1], Integer.parseInt(args[2]), Double.parseDouble(args[3])).line());
            return;
        }
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int[] clients = args.length > 2 ? Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {8, 64};
        String only = System.getProperty("bench.store");
        List<String> stores = only == null ? List.of("memory", "h2") : List.of(only);
        String baseline = System.getProperty("bench.compare");
        System.out.printf("Command path benchmark: %d accounts, deposits, %.1f s per measurement after as long a "
                + "warm-up, median of %d rounds, %d processors%n%n", ACCOUNTS, seconds, rounds,
                Runtime.getRuntime().availableProcessors());
        if (baseline == null) {
            System.out.printf("%-7s %7s %12s %12s %12s %10s %10s%n", "store", "clients", "commands/s",
                    "CPU µs/cmd", "Java µs/cmd", "p50 µs", "p99 µs");
            for (String store : stores) {
                for (int n : clients) {
                    List<Result> results = new ArrayList<>();
                    for (int r = 0; r < rounds; r++) {
                        results.add(child(System.getProperty("java.class.path"), store, n, seconds));
                    }
                    System.out.printf("%-7s %7d %12.0f %12.1f %12.1f %10.0f %10.0f%n", store, n,
                            median(results, Result::perSecond), median(results, Result::cpuMicros),
                            median(results, Result::javaCpuMicros), median(results, Result::p50Micros),
                            median(results, Result::p99Micros));
                }
            }
            return;
        }
        String now = System.getProperty("java.class.path");
        String before = baseline + File.pathSeparator + now;
        System.out.printf("%-7s %7s | %12s %12s %6s | %10s %10s %6s | %10s %10s %6s | %8s %8s | %8s %8s%n",
                "store", "clients", "before cmd/s", "after cmd/s", "ratio", "before CPU", "after CPU", "ratio",
                "bef. Java", "aft. Java", "ratio", "p50 bef", "p50 aft", "p99 bef", "p99 aft");
        for (String store : stores) {
            for (int n : clients) {
                List<Result> b = new ArrayList<>();
                List<Result> a = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    if (r % 2 == 0) {
                        b.add(child(before, store, n, seconds));
                        a.add(child(now, store, n, seconds));
                    } else {
                        a.add(child(now, store, n, seconds));
                        b.add(child(before, store, n, seconds));
                    }
                }
                System.out.printf("%-7s %7d | %12.0f %12.0f %6.2f | %10.1f %10.1f %6.2f | %10.1f %10.1f %6.2f "
                                + "| %8.0f %8.0f | %8.0f %8.0f%n",
                        store, n, median(b, Result::perSecond), median(a, Result::perSecond),
                        ratio(a, b, Result::perSecond), median(b, Result::cpuMicros), median(a, Result::cpuMicros),
                        ratio(a, b, Result::cpuMicros), median(b, Result::javaCpuMicros),
                        median(a, Result::javaCpuMicros), ratio(a, b, Result::javaCpuMicros),
                        median(b, Result::p50Micros), median(a, Result::p50Micros),
                        median(b, Result::p99Micros), median(a, Result::p99Micros));
            }
        }
        System.out.println("\nratio: after ÷ before, median of the per-round ratios; CPU is the whole process's "
                + "(H2 included) per command");
    }

    private static double median(List<Result> results, java.util.function.ToDoubleFunction<Result> value) {
        return Medians.of(results.stream().mapToDouble(value).toArray());
    }

    private static double ratio(List<Result> after, List<Result> before,
                                java.util.function.ToDoubleFunction<Result> value) {
        return Medians.ofRatios(after.stream().mapToDouble(value).toArray(),
                before.stream().mapToDouble(value).toArray());
    }

    /** Runs one measurement in a fresh JVM on that class path, so each build is warmed up alike. */
    private static Result child(String classPath, String store, int clients, double seconds)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "-Xmx1g", "-cp", classPath, CommandPathBenchmark.class.getName(),
                "--child", store, String.valueOf(clients), String.valueOf(seconds))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("RESULT ")) {
                    result = line;
                }
            }
        }
        int exit = process.waitFor();
        if (result == null || exit != 0) {
            throw new IllegalStateException("The measurement of " + store + " with " + clients + " clients ended "
                    + "with exit code " + exit + " and no result; run it alone with --child " + store + " " + clients
                    + " " + seconds + " to see why");
        }
        return Result.parse(result);
    }

    private static Result measure(String storeName, int clients, double seconds) throws Exception {
        Path folder = Files.createTempDirectory("gyre-command-path");
        EventStore store = storeName.equals("h2") ? JdbcEventStore.h2(folder.resolve("events"))
                : new InMemoryEventStore();
        try (Gyre node = Gyre.builder().eventStore(store).aggregate(Account.class).start()) {
            CommandGateway gateway = node.commandGateway();
            for (int a = 0; a < ACCOUNTS; a++) {
                gateway.sendAndWait(new OpenAccount("acc-" + a, "bench"));
            }
            run(gateway, clients, seconds); // warm-up
            return run(gateway, clients, seconds);
        } finally {
            try (Stream<Path> files = Files.walk(folder)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** CPU time so far of every live Java thread but the clients (which count their own), by thread id. */
    private static Map<Long, Long> nodeThreadCpu(ThreadMXBean threadBean, Set<Thread> clients) {
        Set<Long> clientIds = new HashSet<>();
        clients.forEach(client -> clientIds.add(client.getId()));
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threadBean.getAllThreadIds()) {
            long time = threadBean.getThreadCpuTime(id);
            if (time >= 0 && !clientIds.contains(id)) {
                cpu.put(id, time);
            }
        }
        return cpu;
    }

    private static Result run(CommandGateway gateway, int clients, double seconds) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CyclicBarrier start = new CyclicBarrier(clients + 1);
        long[][] samples = new long[clients][MAX_SAMPLES_PER_CLIENT];
        int[] counts = new int[clients];
        ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
        AtomicLong clientCpu = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread thread = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(client);
                try {
                    start.await();
                    long cpuAtStart = threadBean.getCurrentThreadCpuTime();
                    while (!stop.get()) {
                        long began = System.nanoTime();
                        gateway.sendAndWait(new Deposit("acc-" + random.nextInt(ACCOUNTS), 1), Duration.ofSeconds(30));
                        long took = System.nanoTime() - began;
                        if (counts[client] < MAX_SAMPLES_PER_CLIENT) {
                            samples[client][counts[client]++] = took;
                        }
                    }
                    clientCpu.addAndGet(threadBean.getCurrentThreadCpuTime() - cpuAtStart);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "client-" + c);
            thread.start();
            threads.add(thread);
        }
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Set<Thread> clientThreads = Set.copyOf(threads);
        start.await();
        Map<Long, Long> nodeCpuBefore = nodeThreadCpu(threadBean, clientThreads);
        long cpuBefore = os.getProcessCpuTime();
        long began = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        long cpu = os.getProcessCpuTime() - cpuBefore;
        Map<Long, Long> nodeCpuAfter = nodeThreadCpu(threadBean, clientThreads);
        long elapsed = System.nanoTime() - began;
        for (Thread thread : threads) {
            thread.join();
        }
        long javaCpu = clientCpu.get();
        for (Map.Entry<Long, Long> thread : nodeCpuAfter.entrySet()) {
            javaCpu += thread.getValue() - nodeCpuBefore.getOrDefault(thread.getKey(), 0L);
        }
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(samples[c], 0, all, at, counts[c]);
            at += counts[c];
        }
        Arrays.sort(all);
        return new Result(total / (elapsed / 1e9), cpu / 1e3 / total, javaCpu / 1e3 / total, all[total / 2] / 1e3,
                all[Math.min(total - 1, (int) (total * 0.99))] / 1e3);
    }
}
