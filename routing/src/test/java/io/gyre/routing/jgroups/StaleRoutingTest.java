package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.HashRing;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import io.gyre.serialization.SerializedValue;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A sender routing with an old ring is refused by a member that does not own the key, and the command lands on the owner. */
class StaleRoutingTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void a_command_routed_with_a_stale_ring_is_refused_by_the_old_owner_and_runs_on_the_new_one() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Membership.Snapshot old = cluster.bus("node-a").snapshot();
        cluster.start("node-c");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        HashRing current = cluster.bus("node-a").ring();
        String type = "Ledger";

        for (String formerOwner : List.of("node-b", "node-a")) {
            String ledger = IntStream.range(0, 10_000).mapToObj(i -> "ledger-" + formerOwner + "-" + i)
                    .filter(id -> old.ring().owner(id, type).id().equals(formerOwner)
                            && current.owner(id, type).id().equals("node-c"))
                    .findFirst().orElseThrow();
            cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger(ledger));
            long refusedBefore = cluster.bus(formerOwner).refusedCommands();

            cluster.bus("node-a").routeNextWithStaleRing(old);
            cluster.node("node-a").commandGateway().sendAndWait(new Post(ledger, 5, "stale-" + formerOwner));

            assertThat(cluster.bus(formerOwner).refusedCommands()).as("refusals by the former owner %s", formerOwner)
                    .isGreaterThan(refusedBefore);
            List<StoredEvent> stream = store.readStream(StreamId.of("Ledger", ledger)).toList();
            assertThat(stream).hasSize(2);
            Posted posted = (Posted) cluster.node("node-a").serializer().deserialize(
                    new SerializedValue(stream.get(1).type(), stream.get(1).payload()));
            assertThat(posted.node()).as("where the command ran").isEqualTo("node-c");
        }
    }
}
