package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network splits two against two while clients on both sides keep posting to the same ledgers; each side
 * forms its own ring and owns every ledger. The store's sequence check keeps the streams exact; the network
 * heals, the views merge, and the rings agree again.
 */
class PartitionTest {

    private static final List<String> LEDGERS = IntStream.range(0, 20).mapToObj(i -> "ledger-" + i).toList();
    private static final List<String> LEFT = List.of("node-a", "node-b");
    private static final List<String> RIGHT = List.of("node-c", "node-d");

    @TempDir
    Path folder;
    private JdbcEventStore store;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    void both_sides_of_a_partition_take_commands_for_the_same_aggregates_and_every_stream_stays_exact()
            throws Exception {
        store = JdbcEventStore.h2(folder.resolve("events"));
        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c", "node-d")) {
            cluster.start(node, bus -> bus.customizeStack(stack -> stack.add(1, new DISCARD())));
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        for (String ledger : LEDGERS) {
            cluster.anyNode().commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        LedgerCheck check = new LedgerCheck();
        Load left = sideLoad("left", check, LEFT);
        Load right = sideLoad("right", check, RIGHT);
        Thread.sleep(1_000);
        split();
        awaitSides();
        Thread.sleep(2_000);
        heal();
        cluster.awaitConvergence(Duration.ofSeconds(30));
        Thread.sleep(1_000);
        left.close();
        right.close();

        check.verify(store, cluster.anyNode().serializer(), LEDGERS);
        assertThat(check.acknowledgedCount()).isPositive();
        assertThat(left.failures()).as("client failures on the left").isEmpty();
        assertThat(right.failures()).as("client failures on the right").isEmpty();
    }

    private Load sideLoad(String loadName, LedgerCheck check, List<String> side) {
        return new Load(loadName, check, 2, LEDGERS, () -> {
            String name = side.get(ThreadLocalRandom.current().nextInt(side.size()));
            Gyre node = cluster.node(name);
            return Map.entry(name, node);
        });
    }

    private void split() {
        cut(LEFT, RIGHT);
        cut(RIGHT, LEFT);
    }

    private void cut(List<String> from, List<String> to) {
        Address[] others = to.stream().map(node -> cluster.bus(node).addressForTest()).toArray(Address[]::new);
        for (String node : from) {
            cluster.bus(node).protocolForTest(DISCARD.class).addIgnoredMembers(others);
        }
    }

    private void heal() {
        for (String node : cluster.running()) {
            cluster.bus(node).protocolForTest(DISCARD.class).resetIgnoredMembers();
        }
    }

    private void awaitSides() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(sideSees(LEFT) && sideSees(RIGHT))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the partition did not split the rings: "
                        + cluster.bus("node-a").members() + " / " + cluster.bus("node-c").members());
            }
            Thread.sleep(20);
        }
    }

    private boolean sideSees(List<String> side) {
        return side.stream().allMatch(node -> cluster.bus(node).members().stream().sorted().toList().equals(side));
    }
}
