package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes that restart at the same moment, again and again, under load: their views and advertisements arrive
 * together and in any order, yet every node ends with the same ring, and no client is refused for good.
 */
class JoinTogetherTest {

    private static final List<String> LEDGERS = IntStream.range(0, 20).mapToObj(i -> "ledger-" + i).toList();

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void two_nodes_restarted_together_twenty_times_always_end_on_the_same_ring_as_everyone() throws Exception {
        for (String node : List.of("node-a", "node-b", "node-c")) {
            cluster.start(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        for (String ledger : LEDGERS) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        // Clients go through node-a only: the restarting nodes come and go under them.
        Load load = new Load(3, LEDGERS, () -> Map.entry("node-a", cluster.node("node-a")));
        long slowest = 0;
        for (int round = 0; round < 20; round++) {
            List<String> pair = ThreadLocalRandom.current().nextBoolean() ? List.of("node-b", "node-c")
                    : List.of("node-c", "node-b");
            CompletableFuture<?>[] leaving = pair.stream().map(node -> CompletableFuture.runAsync(() -> {
                if (ThreadLocalRandom.current().nextBoolean()) {
                    cluster.crash(node);
                } else {
                    cluster.leave(node);
                }
            })).toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(leaving).join();
            CompletableFuture<?>[] joining = pair.stream().map(node -> CompletableFuture.runAsync(
                    () -> cluster.start(node))).toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(joining).join();
            long started = System.nanoTime();
            cluster.awaitConvergence(Duration.ofSeconds(10));
            slowest = Math.max(slowest, System.nanoTime() - started);
        }
        load.close();
        System.out.printf("slowest convergence after both nodes had started: %d ms%n", slowest / 1_000_000);

        load.check().verify(store, cluster.node("node-a").serializer(), LEDGERS);
        assertThat(load.failures()).as("client failures").isEmpty();
        assertThat(load.check().acknowledgedCount()).isPositive();
    }
}
