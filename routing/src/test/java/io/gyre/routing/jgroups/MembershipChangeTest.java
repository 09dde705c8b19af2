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
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members join, leave gracefully and crash while clients keep posting: no acknowledged posting is lost, none is
 * stored twice, every posting is decided on the latest state, and a graceful leave costs clients nothing.
 */
class MembershipChangeTest {

    private static final List<String> LEDGERS = IntStream.range(0, 60).mapToObj(i -> "ledger-" + i).toList();

    @TempDir
    Path folder;
    private JdbcEventStore store;
    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        store = JdbcEventStore.h2(folder.resolve("events"));
        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            cluster.start(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        for (String ledger : LEDGERS) {
            cluster.anyNode().commandGateway().sendAndWait(new OpenLedger(ledger));
        }
    }

    @AfterEach
    void stop() {
        cluster.close();
        store.close();
    }

    private Load load() {
        return new Load(4, LEDGERS, () -> {
            Gyre node = cluster.anyNode();
            String name = cluster.running().stream().filter(n -> cluster.node(n) == node).findFirst().orElse("?");
            return Map.entry(name, node);
        });
    }

    private LedgerCheck.Summary verify(Load load) throws Exception {
        cluster.awaitConvergence(Duration.ofSeconds(20));
        return load.check().verify(store, cluster.anyNode().serializer(), LEDGERS);
    }

    @Test
    void a_member_joining_under_load_takes_over_its_keys_without_losing_or_doubling_anything() throws Exception {
        Load load = load();
        Thread.sleep(1_500);
        cluster.start("node-d");
        Thread.sleep(2_000);
        load.close();

        LedgerCheck.Summary summary = verify(load);
        assertThat(load.failures()).as("client failures").isEmpty();
        assertThat(summary.postings()).as("postings decided by the newcomer").anyMatch(p -> p.node().equals("node-d"));
        assertThat(load.check().acknowledgedCount()).isPositive();
    }

    @Test
    void a_member_leaving_gracefully_under_load_costs_clients_nothing() throws Exception {
        Load load = load();
        Thread.sleep(1_500);
        long before = load.check().acknowledgedCount();
        cluster.leave("node-b");
        Thread.sleep(2_000);
        load.close();

        verify(load);
        assertThat(load.failures()).as("client failures in a graceful leave").isEmpty();
        assertThat(load.check().acknowledgedCount()).isGreaterThan(before);
        assertThat(cluster.bus("node-a").members()).containsExactlyInAnyOrder("node-a", "node-c");
    }

    @Test
    void a_member_cut_off_abruptly_under_load_loses_no_acknowledged_posting_and_doubles_none() throws Exception {
        Load load = load();
        Thread.sleep(1_500);
        cluster.crash("node-c");
        Thread.sleep(3_000);
        load.close();

        verify(load);
        assertThat(load.failures().keySet()).as("only clients of the crashed node saw failures")
                .isSubsetOf("node-c");
        assertThat(cluster.bus("node-a").members()).containsExactlyInAnyOrder("node-a", "node-b");
    }
}
