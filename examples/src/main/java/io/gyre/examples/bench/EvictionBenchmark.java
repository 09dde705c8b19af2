package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.OpenAccount;
import io.gyre.routing.jgroups.JGroupsCommandBus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * What a ring change costs a node with a large cache: node-a holds 100,000 loaded accounts when node-b joins, and
 * drops the ones whose owner changed, on its membership thread (never on a JGroups thread, which also carries
 * heartbeats), with one hash and one search per cached id. Prints the time each eviction took, for a join and for
 * the leave that follows (which scans the cache and drops nothing: node-a keeps what it owned), over several
 * rounds.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.EvictionBenchmark [-Dexec.args="cached rounds"]} (defaults: 100,000
 * cached accounts, 5 rounds).
 */
public final class EvictionBenchmark {

    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();

    private EvictionBenchmark() {
    }

    /**
     * @param args cached accounts, rounds
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int cached = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String cluster = "evict-" + UUID.randomUUID().toString().substring(0, 8);
        InMemoryEventStore store = new InMemoryEventStore();
        JGroupsCommandBus busA = JGroupsCommandBus.builder().cluster(cluster).nodeName("node-a").build();
        try (Gyre nodeA = Gyre.builder().name("node-a").sharedEventStore(store).aggregate(Account.class)
                .cacheSize(cached * 2).commandBus(busA).start()) {
            System.out.printf("Eviction benchmark: %,d cached accounts on node-a, %d rounds%n", cached, rounds);
            double[] joins = new double[rounds];
            double[] leaves = new double[rounds];
            double[] joinCpu = new double[rounds];
            double[] evictedShare = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                fill(nodeA, cached);
                // A newcomer of another name each round, so that each join moves another half of node-a's keys.
                JGroupsCommandBus busB = JGroupsCommandBus.builder().cluster(cluster).nodeName("node-b" + round)
                        .build();
                JGroupsCommandBus.Eviction before = busA.lastEviction();
                Gyre nodeB = Gyre.builder().name("node-b" + round).sharedEventStore(store).aggregate(Account.class)
                        .commandBus(busB).start();
                JGroupsCommandBus.Eviction join;
                JGroupsCommandBus.Eviction leave;
                try {
                    join = awaitEviction(busA, before, true);
                    fill(nodeA, cached);
                } finally {
                    JGroupsCommandBus.Eviction beforeLeave = busA.lastEviction();
                    nodeB.close();
                    leave = awaitEviction(busA, beforeLeave, false);
                }
                joins[round] = join.micros() / 1000.0;
                evictedShare[round] = (double) join.evicted() / join.scanned();
                leaves[round] = leave.micros() / 1000.0;
                joinCpu[round] = join.cpuMicros() / 1000.0;
                System.out.printf("  round %d: join %.1f ms, CPU %.1f ms (%,d of %,d cached dropped), leave %.1f ms "
                        + "(%,d of %,d)%n", round + 1, joins[round], joinCpu[round], join.evicted(), join.scanned(),
                        leaves[round], leave.evicted(), leave.scanned());
            }
            System.out.printf("%nmedian eviction after a join: %.1f ms elapsed, %.1f ms of CPU, for %,d cached ids "
                    + "(target < 50 ms; elapsed time grows with the machine's load, CPU time does not), after a leave: "
                    + "%.1f ms; dropped on a join: %.0f%% (the newcomer's share)%n", Medians.of(joins),
                    Medians.of(joinCpu), cached, Medians.of(leaves), 100 * Medians.of(evictedShare));
        }
    }

    /** Loads accounts into node-a's cache until it holds the wanted number (node-a owns them all while alone). */
    private static void fill(Gyre node, int cached) {
        List<CompletableFuture<Object>> opened = new ArrayList<>();
        while (node.cachedAggregates() < cached) {
            int missing = cached - node.cachedAggregates();
            for (int i = 0; i < missing; i++) {
                opened.add(node.commandGateway().send(new OpenAccount("acc-" + NEXT_ID.incrementAndGet(), "bench")));
            }
            CompletableFuture.allOf(opened.toArray(CompletableFuture[]::new)).join();
            opened.clear();
        }
    }

    /**
     * @return the first eviction after {@code before} (that dropped something, if asked: a join's view comes before
     *         the newcomer's advertisement, and only the latter moves keys)
     */
    private static JGroupsCommandBus.Eviction awaitEviction(JGroupsCommandBus bus, JGroupsCommandBus.Eviction before,
                                                            boolean dropping) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JGroupsCommandBus.Eviction last = bus.lastEviction();
            if (last != null && last != before && (!dropping || last.evicted() > 0)) {
                return last;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no eviction within 60 s");
            }
            Thread.sleep(1);
        }
    }
}
