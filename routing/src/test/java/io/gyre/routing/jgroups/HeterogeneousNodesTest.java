package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.Tally;
import io.gyre.serialization.SerializedValue;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Nodes that differ in what they run or in their clocks still form one correct cluster. */
class HeterogeneousNodesTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void commands_for_an_aggregate_type_a_node_lacks_never_reach_it() throws Exception {
        for (String node : List.of("node-a", "node-b")) {
            cluster.start(node, bus -> { }, gyre -> gyre.aggregates(Ledger.class, Tally.class));
        }
        // It sends tally commands (so it must know their type) but runs no tally.
        cluster.start("ledgers-only", bus -> { }, gyre -> gyre.aggregate(Ledger.class).types(Tally.Count.class));
        cluster.awaitConvergence(Duration.ofSeconds(20));

        List<String> tallies = IntStream.range(0, 150).mapToObj(i -> "tally-" + i).toList();
        for (String tally : tallies) {
            cluster.node("ledgers-only").commandGateway().sendAndWait(new Tally.Count(tally));
        }
        for (String tally : tallies) {
            StoredEvent event = store.readStream(StreamId.of("Tally", tally)).findFirst().orElseThrow();
            Tally.Counted counted = (Tally.Counted) cluster.node("node-a").serializer()
                    .deserialize(new SerializedValue(event.type(), event.payload()));
            assertThat(counted.node()).as("node that counted %s", tally).isIn("node-a", "node-b");
        }
        List<String> ledgers = IntStream.range(0, 60).mapToObj(i -> "ledger-" + i).toList();
        for (String ledger : ledgers) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        assertThat(ledgers).as("ledgers are still spread over all three nodes")
                .anyMatch(ledger -> cluster.bus("node-a").ring()
                        .owner(ledger, "Ledger").id()
                        .equals("ledgers-only"));
    }

    @Test
    void a_node_whose_clock_is_a_year_off_keeps_every_stream_exact() throws Exception {
        cluster.start("node-a");
        cluster.start("node-skewed", bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .clock(Clock.offset(Clock.systemUTC(), Duration.ofDays(365))));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        List<String> ledgers = IntStream.range(0, 30).mapToObj(i -> "ledger-" + i).toList();
        for (String ledger : ledgers) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        Load load = new Load(4, ledgers, () -> {
            String name = cluster.running().get((int) (Math.random() * 2));
            Gyre node = cluster.node(name);
            return java.util.Map.entry(name, node);
        });
        Thread.sleep(2_000);
        load.close();
        LedgerCheck.Summary summary = load.check().verify(store, cluster.node("node-a").serializer(), ledgers);
        assertThat(load.failures()).isEmpty();
        assertThat(summary.postings()).anyMatch(posted -> posted.node().equals("node-skewed"));
    }
}
