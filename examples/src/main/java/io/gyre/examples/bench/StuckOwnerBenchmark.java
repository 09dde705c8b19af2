package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.OpenAccount;
import io.gyre.routing.HashRing;
import io.gyre.routing.jgroups.JGroupsCommandBus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

/**
 * What a member that stops reading costs everyone else. Three nodes in one JVM (store in memory, so only the bus
 * is measured); clients on node-a send to aggregates that node-b owns, first with every member healthy, then while
 * node-c has stopped reading and node-a keeps sending it large commands that back up in its outbox. Printed: the
 * latency of node-b's commands in both phases and the time {@code send} takes to return for node-c's commands.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.StuckOwnerBenchmark [-Dexec.args="seconds clients"]} (defaults: 5
 * seconds per phase, 8 clients).
 */
public final class StuckOwnerBenchmark {

    private StuckOwnerBenchmark() {
    }

    /**
     * @param args seconds per phase, clients
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        String cluster = "stuck-" + UUID.randomUUID().toString().substring(0, 8);
        FrozenMember freeze = new FrozenMember();
        InMemoryEventStore store = new InMemoryEventStore();
        List<Gyre> nodes = new ArrayList<>();
        List<JGroupsCommandBus> buses = new ArrayList<>();
        try {
            for (String name : List.of("node-a", "node-b", "node-c")) {
                JGroupsCommandBus.Builder builder = JGroupsCommandBus.builder().cluster(cluster).nodeName(name)
                        .suspectAfter(Duration.ofMinutes(5));
                if (name.equals("node-c")) {
                    builder.customizeStack(protocols -> protocols.add(1, freeze));
                }
                JGroupsCommandBus bus = builder.build();
                buses.add(bus);
                nodes.add(Gyre.builder().name(name).sharedEventStore(store).aggregate(Account.class).commandBus(bus)
                        .start());
            }
            while (buses.stream().anyMatch(bus -> bus.members().size() != 3)) {
                Thread.sleep(20);
            }
            Gyre sender = nodes.get(0);
            HashRing ring = buses.get(0).ring();
            String type = "Account"; // the aggregate type routed on: @Aggregate names it after its simple class name
            List<String> onB = owned(ring, type, "node-b");
            List<String> onC = owned(ring, type, "node-c");
            for (String account : onB) {
                sender.commandGateway().sendAndWait(new OpenAccount(account, "b"));
            }
            for (String account : onC) {
                sender.commandGateway().sendAndWait(new OpenAccount(account, "c"));
            }
            System.out.printf("Stuck owner benchmark: %d clients on node-a sending to node-b, %.1f s per phase%n%n",
                    clients, seconds);
            measure(sender, onB, clients, 1); // warm-up
            double[] healthy = measure(sender, onB, clients, seconds);

            freeze.freeze();
            AtomicBoolean flooding = new AtomicBoolean(true);
            List<Long> sendReturn = new CopyOnWriteArrayList<>();
            List<CompletableFuture<Object>> toC = new CopyOnWriteArrayList<>();
            // Large metadata travels with each command, so a few of them fill a socket.
            Metadata bulk = Metadata.of("note", "x".repeat(64 * 1024));
            Thread flood = new Thread(() -> {
                while (flooding.get()) {
                    String account = onC.get(ThreadLocalRandom.current().nextInt(onC.size()));
                    long before = System.nanoTime();
                    toC.add(sender.commandGateway().send(new Deposit(account, 1), bulk,
                            Duration.ofSeconds(2)).exceptionally(e -> null));
                    sendReturn.add(System.nanoTime() - before);
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "flood-node-c");
            flood.start();
            Thread.sleep(1_000); // node-c's socket and node-a's outbox to it fill up
            double[] stuck = measure(sender, onB, clients, seconds);
            flooding.set(false);
            flood.join();
            freeze.thaw();
            CompletableFuture.allOf(toC.toArray(CompletableFuture[]::new)).join();

            double[] returns = sendReturn.stream().mapToDouble(nanos -> nanos / 1e6).sorted().toArray();
            System.out.printf("%-44s %10s %10s %10s%n", "", "p50", "p99", "max");
            print("node-b commands, every member healthy", healthy);
            print("node-b commands, node-c not reading", stuck);
            print("send() returning, for node-c (" + returns.length + " sends)", returns);
            System.out.printf("%nAdded to node-b's commands while node-c is stuck: p50 %+.3f ms, p99 %+.3f ms "
                    + "(target: no send delayed by more than 5 ms)%n", percentile(stuck, 0.5)
                    - percentile(healthy, 0.5), percentile(stuck, 0.99) - percentile(healthy, 0.99));
        } finally {
            freeze.thaw();
            for (Gyre node : nodes) {
                node.close();
            }
        }
    }

    private static List<String> owned(HashRing ring, String type, String member) {
        return IntStream.range(0, 100_000).mapToObj(i -> "acc-" + i)
                .filter(id -> ring.owner(id, type).id().equals(member)).limit(50).toList();
    }

    private static double[] measure(Gyre sender, List<String> accounts, int clients, double seconds)
            throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        List<double[]> perClient = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        int[] counts = new int[clients];
        for (int c = 0; c < clients; c++) {
            double[] latencies = new double[1_000_000];
            perClient.add(latencies);
            int client = c;
            Thread thread = new Thread(() -> {
                while (running.get() && counts[client] < latencies.length) {
                    String account = accounts.get(ThreadLocalRandom.current().nextInt(accounts.size()));
                    long before = System.nanoTime();
                    sender.commandGateway().sendAndWait(new Deposit(account, 1), Duration.ofSeconds(30));
                    latencies[counts[client]++] = (System.nanoTime() - before) / 1e6;
                }
            });
            thread.start();
            threads.add(thread);
        }
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        for (Thread thread : threads) {
            thread.join();
        }
        List<Double> all = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            for (int i = 0; i < counts[c]; i++) {
                all.add(perClient.get(c)[i]);
            }
        }
        return all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    private static void print(String label, double[] sorted) {
        System.out.printf("%-44s %8.3fms %8.3fms %8.3fms%n", label, percentile(sorted, 0.5), percentile(sorted, 0.99),
                sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]);
    }

    private static double percentile(double[] sorted, double quantile) {
        return sorted.length == 0 ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.floor(quantile * sorted.length))];
    }
}
