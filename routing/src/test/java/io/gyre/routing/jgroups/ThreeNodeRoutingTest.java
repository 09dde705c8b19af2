package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.routing.HashRing;
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreeNodeRoutingTest {

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
    void commands_sent_to_random_nodes_run_on_the_owner_of_their_aggregate_and_streams_stay_exact()
            throws Exception {
        store = JdbcEventStore.h2(folder.resolve("events"));
        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            cluster.start(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));

        List<String> ledgers = IntStream.range(0, 200).mapToObj(i -> "ledger-" + i).toList();
        for (String ledger : ledgers) {
            cluster.anyNode().commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        LedgerCheck check = new LedgerCheck();
        SplittableRandom random = new SplittableRandom(7);
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            String ledger = ledgers.get(random.nextInt(ledgers.size()));
            long amount = 1 + random.nextInt(100);
            String ref = "ref-" + i;
            check.sent(ledger, ref);
            Gyre node = cluster.anyNode();
            sent.add(node.commandGateway().send(new Post(ledger, amount, ref))
                    .thenApply(balance -> {
                        check.acknowledged(ledger, ref, amount);
                        return balance;
                    }));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();

        LedgerCheck.Summary summary = check.verify(store, cluster.anyNode().serializer(), ledgers);
        assertThat(summary.postings()).hasSize(3_000);
        HashRing ring = cluster.bus("node-a").ring();
        String postType = "Ledger";
        for (Posted posted : summary.postings()) {
            assertThat(posted.node()).as("node that ran posting %s of %s", posted.ref(), posted.id())
                    .isEqualTo(ring.owner(posted.id(), postType).id());
        }
        assertThat(summary.postings().stream().map(Posted::node).distinct()).as("every node owns some ledgers")
                .containsExactlyInAnyOrder("node-a", "node-b", "node-c");
        for (String node : cluster.running()) {
            assertThat(cluster.bus(node).pendingRemoteCommands()).isZero();
        }
    }
}
