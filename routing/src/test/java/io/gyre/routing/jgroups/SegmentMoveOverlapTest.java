package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.LedgerOpened;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * At-least-once delivery while segments move, from an adversarial review of issue 14: a slow handler is busy with a
 * batch when the view changes. Every view change makes a member claim its segments again at the new epoch, also those
 * it keeps; the new worker of such a segment must not start until the old one has left its handler, or one node would
 * call the same handler for the same aggregate on two threads at once, and the old one could apply an earlier event
 * after the new one applied a later one, leaving a "latest state" read model stale with no error anywhere.
 *
 * <p>The read model here keeps, per ledger, the sequence of the last event applied, and a witness of which threads
 * are inside the handler for one ledger at once. Overlaps across nodes, and a read model left stale by them, are
 * counted and printed but allowed: a member cannot wait for a handler on another member, which is what fencing and
 * transactional delivery are for.
 */
class SegmentMoveOverlapTest {

    private static final String PROCESSOR = "latest";
    private static final int SEGMENTS = 4;
    private static final List<String> LEDGERS = IntStream.range(0, 16).mapToObj(i -> "ledger-" + i).toList();

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final LatestState model = new LatestState();
    private TestCluster cluster;

    /** Per ledger, the sequence of the last event applied; and every time two threads handled one ledger at once. */
    static final class LatestState {
        final Map<StreamId, Long> last = new ConcurrentHashMap<>();
        final Map<StreamId, String> inside = new ConcurrentHashMap<>();
        final List<String> sameNodeOverlaps = new CopyOnWriteArrayList<>();
        final List<String> crossNodeOverlaps = new CopyOnWriteArrayList<>();
        final List<String> regressionsAtEnd = new CopyOnWriteArrayList<>();
        /** A posting with this reference blocks its handler until {@link #release} opens (a stalled handler). */
        volatile String blockRef = "";
        final java.util.concurrent.CountDownLatch blocked = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

        @EventHandler
        void on(LedgerOpened event, EventContext context) throws InterruptedException {
            apply(context);
        }

        @EventHandler
        void on(Posted event, EventContext context) throws InterruptedException {
            if (event.ref().equals(blockRef) && blocked.getCount() > 0) {
                blocked.countDown();
                release.await(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            apply(context);
        }

        private void apply(EventContext context) throws InterruptedException {
            String me = Thread.currentThread().getName();
            String other = inside.putIfAbsent(context.stream(), me);
            if (other != null) {
                String overlap = context.stream() + " #" + context.sequence() + " on " + me + " while " + other
                        + " is inside";
                if (nodeOf(other).equals(nodeOf(me))) {
                    sameNodeOverlaps.add(overlap);
                } else {
                    crossNodeOverlaps.add(overlap);
                }
            }
            try {
                Thread.sleep(3);
                last.put(context.stream(), context.sequence());
            } finally {
                inside.remove(context.stream(), me);
            }
        }

        private static String nodeOf(String thread) {
            int dash = thread.indexOf('-', thread.indexOf('-') + 1);
            return dash < 0 ? thread : thread.substring(0, dash);
        }
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void startNode(String node) {
        cluster.start(node, bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .processor(TrackingProcessor.named(PROCESSOR).handlers(model).segments(SEGMENTS).threads(SEGMENTS)
                        .batchSize(50).pollInterval(Duration.ofMillis(50)))
                .processing(ProcessingSettings.builder().tokenStore(tokens).build()));
    }

    private final InMemoryTokenStore tokens = new InMemoryTokenStore();

    @Test
    void a_view_change_never_runs_one_aggregates_handler_twice_at_once_on_one_node() throws Exception {
        cluster = new TestCluster(store);
        startNode("node-a");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        List<CompletableFuture<?>> sends = new ArrayList<>();
        for (String ledger : LEDGERS) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        for (int i = 0; i < 2_400; i++) {
            sends.add(cluster.node("node-a").commandGateway().send(new Post(LEDGERS.get(i % LEDGERS.size()), 1,
                    "p-" + i)));
        }
        CompletableFuture.allOf(sends.toArray(new CompletableFuture<?>[0])).join();

        // node-a is busy with a backlog (3 ms an event); views change under it.
        Thread.sleep(300);
        startNode("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Thread.sleep(400);
        startNode("node-c");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Thread.sleep(400);
        cluster.leave("node-c");
        cluster.awaitConvergence(Duration.ofSeconds(20));

        Map<StreamId, Long> heads = new HashMap<>();
        for (String ledger : LEDGERS) {
            StreamId stream = StreamId.of("Ledger", ledger);
            heads.put(stream, store.lastSequence(stream));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && !(cluster.running().stream()
                .allMatch(node -> cluster.node(node).processors().status(PROCESSOR).caughtUp())
                && tokens.tokens(PROCESSOR).stream().allMatch(row -> row.owner() != null))) {
            Thread.sleep(50);
        }
        Thread.sleep(1_000); // let any straggler finish
        heads.forEach((stream, head) -> {
            Long applied = model.last.get(stream);
            if (applied == null || applied.longValue() != head) {
                model.regressionsAtEnd.add(stream + " ends at #" + applied + ", its last event is #" + head);
            }
        });
        System.out.printf("%s: %d same-node overlaps, %d cross-node overlaps, %d ledgers stale at the end; first: %s%n",
                getClass().getSimpleName(), model.sameNodeOverlaps.size(), model.crossNodeOverlaps.size(),
                model.regressionsAtEnd.size(), model.sameNodeOverlaps.stream().limit(3).toList());
        assertThat(model.sameNodeOverlaps).as("one aggregate handled by two threads of one node at once").isEmpty();
        // Not asserted: the end state. A superseded worker on another node keeps handling until it learns of the
        // view, so its last write can land after the new owner's; at-least-once delivery without leases cannot
        // prevent that (it failed 1 run in 4 on main and on the branch alike). Transactional delivery, whose commits
        // are fenced, is what keeps a read model exact across nodes (LateCommitsUnderSegmentMovesTest in examples).
    }

    @Test
    void a_stalled_handler_of_a_superseded_worker_does_not_leave_the_read_model_behind_the_log() throws Exception {
        cluster = new TestCluster(store);
        startNode("node-a");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        var gateway = cluster.node("node-a").commandGateway();
        gateway.sendAndWait(new OpenLedger("ledger-x"));
        StreamId x = StreamId.of("Ledger", "ledger-x");
        awaitUntil(() -> Long.valueOf(0).equals(model.last.get(x)));

        model.blockRef = "stall";
        gateway.sendAndWait(new Post("ledger-x", 1, "stall"));     // #1: its handler stalls on node-a
        assertThat(model.blocked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        gateway.sendAndWait(new Post("ledger-x", 1, "later-2"));   // #2, #3: appended while it stalls
        gateway.sendAndWait(new Post("ledger-x", 1, "later-3"));

        // Only the epoch changes: node-a follows one more processor, so it claims its segments again, still its own.
        cluster.bus("node-a").segmentOwnership().follow("probe", 2, owned -> { });
        // The new worker waits for the old one to leave its stalled handler: nothing of ledger-x runs meanwhile.
        Thread.sleep(1_000);
        assertThat(model.last.get(x)).as("ledger-x while its segment's previous worker is stalled").isEqualTo(0L);
        model.release.countDown();                                    // the old worker's stalled call returns
        awaitUntil(() -> Long.valueOf(3).equals(model.last.get(x)));   // then #2 and #3 follow, in order
        Thread.sleep(500);

        System.out.printf("%s: after the stall, ledger-x ends at #%s (its last event is #3); overlaps %s%n",
                getClass().getSimpleName(), model.last.get(x), model.sameNodeOverlaps);
        assertThat(model.last.get(x)).as("the read model's state of ledger-x after everything was handled")
                .isEqualTo(3L);
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
