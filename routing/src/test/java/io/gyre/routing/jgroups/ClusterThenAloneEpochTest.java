package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TrackingProcessor;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Epochs across deployments, from an adversarial review of issue 14: a service runs as a cluster, then as a single
 * node without a cluster bus on the same stores (scaled down to one instance, a maintenance run, a developer's run).
 * The token rows keep the cluster's epochs; the node alone must outrank them ({@code SegmentEpoch.ofNodeAlone}) and
 * take its segments over. Its epoch was once its clock in milliseconds (about 1.8e12), far below a cluster's (about
 * 2.6e17), and it stayed FENCED for good.
 */
class ClusterThenAloneEpochTest {

    private static final String PROCESSOR = "tally";

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final InMemoryTokenStore tokens = new InMemoryTokenStore();
    private final Tally tally = new Tally();
    private TestCluster cluster;
    private Gyre alone;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (alone != null) {
            alone.close();
        }
    }

    @Test
    void a_node_alone_takes_over_a_processor_that_a_stopped_cluster_ran() throws Exception {
        cluster = new TestCluster(store);
        cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .processor(TrackingProcessor.named(PROCESSOR).handlers(tally).segments(2)
                        .pollInterval(Duration.ofMillis(50)))
                .processing(ProcessingSettings.builder().tokenStore(tokens).build()));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        awaitUntil(() -> tally.handled() == 1);
        cluster.close();
        cluster = null;
        long clusterEpoch = tokens.tokens(PROCESSOR).stream().mapToLong(SegmentToken::epoch).max().orElseThrow();

        alone = Gyre.builder().name("node-a").sharedEventStore(store).aggregate(Ledger.class)
                .processor(TrackingProcessor.named(PROCESSOR).handlers(tally).segments(2)
                        .pollInterval(Duration.ofMillis(50)))
                .processing(ProcessingSettings.builder().tokenStore(tokens).build())
                .start();
        alone.commandGateway().sendAndWait(new OpenLedger("ledger-2"));
        // Up to the 3 s this always allowed, but no longer than it takes: the tally's heads only grow, so the
        // assertion below sees what it would have seen at the end of the 3 s (a FENCED node never gets there).
        StreamId second = StreamId.of("Ledger", "ledger-2");
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < deadline && !tally.heads().containsKey(second)) {
            Thread.sleep(20);
        }

        List<SegmentStatus> segments = alone.processors().status(PROCESSOR).segments();
        System.out.printf("%s: cluster epoch %d; the lone node's segments %s; handled %d of 2 events%n",
                getClass().getSimpleName(), clusterEpoch, segments.stream().map(s -> s.segment() + "=" + s.state()
                        + " epoch " + s.epoch()).toList(), tally.handled());
        assertThat(tally.heads()).containsKey(second);
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s");
            }
            Thread.sleep(20);
        }
    }
}
