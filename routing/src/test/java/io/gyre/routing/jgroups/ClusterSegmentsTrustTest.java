package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.SegmentEpoch;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.Ledger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A process that speaks the wire format but is no Gyre member cannot take segments: processors advertised by a
 * sender that is not on the ring, or under another member's id, are not believed, and each refusal is counted.
 */
class ClusterSegmentsTrustTest {

    private static final Object HANDLER = new Object() {
        @io.gyre.processing.EventHandler
        void on(io.gyre.routing.testmodel.LedgerMessages.Posted event) {
        }
    };

    private final TestCluster cluster = new TestCluster(new InMemoryEventStore());
    private RawPeer rogue;

    @BeforeEach
    void start() throws Exception {
        for (String node : List.of("node-a", "node-b")) {
            cluster.start(node, bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                    .processor(TrackingProcessor.named("tally").handlers(HANDLER).segments(8)));
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        awaitPlacedOn(List.of("node-a", "node-b"));
        rogue = new RawPeer(cluster);
    }

    @AfterEach
    void stop() {
        rogue.close();
        cluster.close();
    }

    @Test
    void processors_advertised_by_a_sender_that_is_not_on_the_ring_or_under_another_members_id_are_not_believed()
            throws Exception {
        long now = SegmentEpoch.incarnationOf(Instant.now());
        LongSupplier refused = () -> cluster.bus("node-a").distrust().refusedAdvertisements();

        rogue.send(null, new WireMessage.ProcessorsAdvertisement("rogue", now, 1, Map.of("tally", 8)));
        awaitAtLeast(refused, 1);

        // On the ring now (an insecure cluster lets it), but it claims to be node-b.
        rogue.send(null, new WireMessage.Advertisement("rogue", 1, Map.of()));
        awaitUntil(() -> cluster.bus("node-a").members().contains("rogue"));
        rogue.send(null, new WireMessage.ProcessorsAdvertisement("node-b", now, 99, Map.of("tally", 8)));
        awaitAtLeast(refused, 2);

        assertThat(new HashSet<>(cluster.bus("node-a").segmentOwners("tally").values()))
                .containsExactlyInAnyOrder("node-a", "node-b");
    }

    private void awaitPlacedOn(List<String> members) throws InterruptedException {
        awaitUntil(() -> cluster.running().stream().allMatch(node -> new HashSet<>(cluster.bus(node)
                .segmentOwners("tally").values()).equals(new HashSet<>(members))));
    }

    private static void awaitAtLeast(LongSupplier counter, long expected) throws InterruptedException {
        awaitUntil(() -> counter.getAsLong() >= expected);
    }

    private static void awaitUntil(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("condition met within 10 s").isTrue();
            Thread.sleep(10);
        }
    }
}
