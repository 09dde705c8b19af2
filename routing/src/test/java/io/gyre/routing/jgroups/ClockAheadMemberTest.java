package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TrackingProcessor;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (a member whose clock runs ahead, as in the chaos run, whose node-1 runs 30 days
 * ahead): its incarnation, and so every epoch it claims with, lies above the others'. The other members once refused
 * its processors advertisement when it was more than an hour ahead ({@code ProcessorMembership}), so they did not
 * raise their own incarnation to it, but the epochs it stored in the token rows stayed: once it died, the survivors
 * claimed its segments with lower epochs and were refused, and the segments stayed FENCED for as long as its clock
 * was ahead (two hours here, 30 days in the chaos run). Now the survivors believe its incarnation, and a member that
 * starts takes one above the highest epoch stored ({@code ClusterSegments}), so they resume within seconds of the
 * view change.
 */
class ClockAheadMemberTest {

    private static final String PROCESSOR = "tally";

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final InMemoryTokenStore tokens = new InMemoryTokenStore();
    private final Tally tally = new Tally();
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void startNode(String node, Clock clock) {
        cluster.start(node, bus -> { }, gyre -> gyre.aggregate(Ledger.class).clock(clock)
                .processor(TrackingProcessor.named(PROCESSOR).handlers(tally).segments(4)
                        .pollInterval(Duration.ofMillis(50)))
                .processing(ProcessingSettings.builder().tokenStore(tokens).build()));
    }

    @Test
    void the_survivors_take_over_the_segments_of_a_dead_member_whose_clock_ran_ahead() throws Exception {
        cluster = new TestCluster(store);
        startNode("node-a", Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        awaitUntil(() -> tally.handled() == 1);
        startNode("node-b", Clock.systemUTC());
        cluster.awaitConvergence(Duration.ofSeconds(20));
        // While both live they agree on the placement: each runs its share, neither is fenced.
        awaitUntil(() -> tokens.tokens(PROCESSOR).stream().map(SegmentToken::owner).collect(Collectors.toSet())
                .equals(Set.of("node-a", "node-b")) && unfenced("node-a") && unfenced("node-b"));

        long crashed = System.nanoTime();
        cluster.crash("node-a");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger("ledger-2"));
        awaitUntil(() -> handledLedger2() && tokens.tokens(PROCESSOR).stream()
                .allMatch(row -> "node-b".equals(row.owner())));

        List<SegmentStatus> segments = cluster.node("node-b").processors().status(PROCESSOR).segments();
        System.out.printf("%s: %d ms after node-a (clock 2 h ahead) crashed, node-b's segments %s; token rows %s;"
                + " handled %d of 2%n", getClass().getSimpleName(), (System.nanoTime() - crashed) / 1_000_000,
                segments.stream().map(s -> s.segment() + "="
                + s.state() + " epoch " + s.epoch()).toList(), tokens.tokens(PROCESSOR).stream()
                .map(row -> row.segment() + ":" + row.owner() + "@" + row.epoch()).toList(), tally.handled());
        assertThat(tokens.tokens(PROCESSOR)).extracting(SegmentToken::owner).containsOnly("node-b");
        assertThat(tally.gaps()).isEmpty();
    }

    @Test
    void a_live_member_whose_clock_runs_ahead_is_believed_so_the_members_agree_and_its_segments_move_on_when_it_dies()
            throws Exception {
        cluster = new TestCluster(store);
        startNode("node-b", Clock.systemUTC());
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        awaitUntil(() -> tally.handled() == 1);
        startNode("node-a", Clock.offset(Clock.systemUTC(), Duration.ofDays(30)));
        cluster.awaitConvergence(Duration.ofSeconds(20));

        // Once refused by node-b, node-a was left out of its placement: both ran node-a's share, node-b fenced on it.
        awaitUntil(() -> cluster.bus("node-b").segmentOwners(PROCESSOR).equals(cluster.bus("node-a")
                .segmentOwners(PROCESSOR)) && new java.util.HashSet<>(cluster.bus("node-b").segmentOwners(PROCESSOR)
                .values()).equals(Set.of("node-a", "node-b")) && tokens.tokens(PROCESSOR).stream()
                .map(SegmentToken::owner).collect(Collectors.toSet()).equals(Set.of("node-a", "node-b"))
                && unfenced("node-a") && unfenced("node-b"));

        cluster.crash("node-a");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger("ledger-2"));
        awaitUntil(() -> handledLedger2() && tokens.tokens(PROCESSOR).stream()
                .allMatch(row -> "node-b".equals(row.owner())) && unfenced("node-b"));
    }

    @Test
    void a_cluster_started_again_with_right_clocks_takes_over_from_a_run_whose_member_ran_ahead() throws Exception {
        cluster = new TestCluster(store);
        startNode("node-a", Clock.offset(Clock.systemUTC(), Duration.ofDays(30)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        awaitUntil(() -> tally.handled() == 1);
        // Members come and go: node-a claims again at each view, so its rows carry a view id the new run won't reach.
        for (int i = 0; i < 3; i++) {
            cluster.start("node-x" + i);
            cluster.awaitConvergence(Duration.ofSeconds(20));
            cluster.leave("node-x" + i);
            cluster.awaitConvergence(Duration.ofSeconds(20));
        }
        // The view id sits below the incarnation's 31 bits and above the 10 bits of changes (SegmentEpoch).
        awaitUntil(() -> tokens.tokens(PROCESSOR).stream().allMatch(row -> (row.epoch() >>> 10 & 0x3FFFFF) >= 4));
        cluster.close();
        long stored = tokens.tokens(PROCESSOR).stream().mapToLong(SegmentToken::epoch).max().orElseThrow();

        // View ids start again from the first, below the old run's: only an incarnation above its own outranks it.
        cluster = new TestCluster(store);
        startNode("node-b", Clock.systemUTC());
        startNode("node-c", Clock.systemUTC());
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger("ledger-2"));

        awaitUntil(() -> handledLedger2() && tokens.tokens(PROCESSOR).stream()
                .allMatch(row -> Set.of("node-b", "node-c").contains(row.owner()) && row.epoch() > stored)
                && unfenced("node-b") && unfenced("node-c"));
    }

    private boolean handledLedger2() {
        return tally.heads().containsKey(StreamId.of("Ledger", "ledger-2"));
    }

    private boolean unfenced(String node) {
        List<SegmentStatus> segments = cluster.node(node).processors().status(PROCESSOR).segments();
        return !segments.isEmpty() && segments.stream().noneMatch(s -> s.state() == SegmentState.FENCED);
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
