package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.OwnedSegments;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TrackingProcessor;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jspecify.annotations.Nullable;

/**
 * Three members run one tracking processor of 8 segments over a shared event store and token store, while clients
 * post: the segments spread over the members, each is run by exactly one member while the view is stable, a member
 * that crashes, leaves or joins moves segments, and in the end every stored event was handled, in order per
 * aggregate, none skipped, and no segment's token was ever advanced by an owner the store had fenced.
 */
class ClusterSegmentsTest {

    private static final String PROCESSOR = "tally";
    private static final int SEGMENTS = 8;
    private static final List<String> LEDGERS = IntStream.range(0, 40).mapToObj(i -> "ledger-" + i).toList();

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final FencingWitness tokens = new FencingWitness(new InMemoryTokenStore());
    private final Tally tally = new Tally();
    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            startNode(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        for (String ledger : LEDGERS) {
            cluster.anyNode().commandGateway().sendAndWait(new OpenLedger(ledger));
        }
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private void startNode(String node) {
        cluster.start(node, bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .processor(TrackingProcessor.named(PROCESSOR).handlers(tally).segments(SEGMENTS)
                        .pollInterval(Duration.ofMillis(50)))
                // No segment ownership given: the node takes it from its command bus, the cluster's.
                .processing(ProcessingSettings.builder().tokenStore(tokens).build()));
    }

    private Load load() {
        return new Load(3, LEDGERS, () -> {
            Gyre node = cluster.anyNode();
            String name = cluster.running().stream().filter(n -> cluster.node(n) == node).findFirst().orElse("?");
            return Map.entry(name, node);
        });
    }

    @Test
    void segments_spread_over_the_members_and_a_crashed_members_segments_are_taken_over_then_shared_with_a_newcomer()
            throws Exception {
        Map<String, Set<Integer>> three = awaitOneOwnerPerSegment();
        assertThat(three.values()).allSatisfy(owned -> assertThat(owned).hasSizeBetween(2, 3));

        Load load = load();
        try {
            crashThenJoin();
        } finally {
            load.close();
        }
        verifyEveryEventHandled(load);
    }

    private void crashThenJoin() throws Exception {
        awaitHandled(Duration.ofSeconds(20));
        long crashed = System.nanoTime();
        cluster.crash("node-c");
        awaitUntil(Duration.ofSeconds(20), () -> "survivors run every segment: " + running(),
                () -> !running().containsKey("node-c") && oneOwnerEach(running()));
        System.out.printf("%s: the crashed member's segments ran again on the survivors %d ms after the crash%n",
                getClass().getSimpleName(), (System.nanoTime() - crashed) / 1_000_000);
        Map<String, Set<Integer>> two = awaitOneOwnerPerSegment();
        assertThat(two).containsOnlyKeys("node-a", "node-b");
        assertThat(two.values()).allSatisfy(owned -> assertThat(owned).hasSize(4));

        startNode("node-d");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Map<String, Set<Integer>> joined = awaitOneOwnerPerSegment();
        assertThat(joined.get("node-d")).hasSizeBetween(2, 3);
    }

    @Test
    void a_member_leaving_gracefully_hands_its_segments_to_the_others_and_nothing_is_lost() throws Exception {
        awaitOneOwnerPerSegment();
        Load load = load();
        try {
            awaitHandled(Duration.ofSeconds(20));
            cluster.leave("node-b");
            cluster.awaitConvergence(Duration.ofSeconds(20));
            assertThat(awaitOneOwnerPerSegment()).containsOnlyKeys("node-a", "node-c");
        } finally {
            load.close();
        }

        verifyEveryEventHandled(load);
    }

    @Test
    void every_member_places_the_segments_alike_and_logs_show_the_same_owners_as_the_token_store() throws Exception {
        Map<String, Set<Integer>> owned = awaitOneOwnerPerSegment();
        Map<Integer, String> expected = new TreeMap<>();
        owned.forEach((node, segments) -> segments.forEach(segment -> expected.put(segment, node)));

        for (String node : cluster.running()) {
            assertThat(cluster.bus(node).segmentOwners(PROCESSOR)).as("placement on %s", node).isEqualTo(expected);
        }
        awaitUntil(Duration.ofSeconds(10), () -> "token store owners " + tokens.owners(PROCESSOR),
                () -> tokens.owners(PROCESSOR).equals(expected));
    }

    @Test
    void listeners_get_whole_sets_one_call_at_a_time_on_the_membership_thread_and_a_closed_registration_hands_over()
            throws Exception {
        Map<String, Recorder> recorders = new TreeMap<>();
        Map<String, SegmentOwnership.Registration> registrations = new TreeMap<>();
        for (String node : cluster.running()) {
            Recorder recorder = new Recorder();
            recorders.put(node, recorder);
            registrations.put(node, cluster.bus(node).segmentOwnership().follow("probe", 6, recorder));
        }
        awaitUntil(Duration.ofSeconds(20), () -> "probe owners " + recorders, () -> partitions(recorders, 6, 3));

        registrations.get("node-b").close();
        recorders.remove("node-b");
        awaitUntil(Duration.ofSeconds(20), () -> "probe owners " + recorders, () -> partitions(recorders, 6, 2));
        for (Recorder recorder : recorders.values()) {
            assertThat(recorder.problems).as("listener calls").isEmpty();
            assertThat(recorder.epochs).as("epochs, call after call").isSorted();
        }
    }

    /** Checks every call as it comes: the thread, no overlap with another call, the processor, increasing epochs. */
    private static final class Recorder implements SegmentOwnership.Listener {
        final java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        final List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<Long> epochs = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile Set<Integer> owned = Set.of();

        @Override
        public void ownedSegmentsChanged(OwnedSegments segments) {
            if (inside.incrementAndGet() != 1) {
                problems.add("overlapping calls");
            }
            if (!Thread.currentThread().getName().startsWith("gyre-cluster-membership-")) {
                problems.add("called on " + Thread.currentThread().getName());
            }
            if (!segments.processor().equals("probe")) {
                problems.add("told about " + segments.processor());
            }
            segments.epochs().values().stream().distinct().forEach(epochs::add);
            owned = new TreeSet<>(segments.epochs().keySet());
            inside.decrementAndGet();
        }

        @Override
        public String toString() {
            return owned.toString();
        }
    }

    private static boolean partitions(Map<String, Recorder> recorders, int segments, int members) {
        List<Integer> all = new ArrayList<>();
        recorders.values().forEach(recorder -> all.addAll(recorder.owned));
        return all.size() == segments && new TreeSet<>(all).size() == segments
                && recorders.values().stream().filter(recorder -> !recorder.owned.isEmpty()).count() == members;
    }

    @Test
    void a_cluster_started_again_claims_its_segments_over_the_epochs_stored_by_its_previous_run() throws Exception {
        awaitOneOwnerPerSegment();
        awaitHandled(Duration.ofSeconds(20));
        long storedEpoch = tokens.tokens(PROCESSOR).stream().mapToLong(SegmentToken::epoch).max().orElseThrow();
        long lastStart = Instant.now().getEpochSecond();
        cluster.close();
        // Epochs rank runs by the second their youngest member started; JGroups starts view ids at 1 again.
        awaitUntil(Duration.ofSeconds(3), () -> "the next second", () -> Instant.now().getEpochSecond() > lastStart);

        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            startNode(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        awaitOneOwnerPerSegment();
        cluster.anyNode().commandGateway().sendAndWait(new Post("ledger-0", 1, "after-restart"));

        awaitHandled(Duration.ofSeconds(20));
        assertThat(tokens.tokens(PROCESSOR)).allSatisfy(row -> assertThat(row.epoch()).isGreaterThan(storedEpoch));
        assertThat(tokens.violations()).isEmpty();
    }

    /**
     * Waits until every running member places the segments alike, over all running members, and runs (has claimed)
     * exactly the segments placed on it; then watches a while: the placement stays, and no segment is ever run by
     * two members. (A member may claim its own segment again, with a newer epoch, while the last advertisements of
     * a join settle: for that moment the segment has no running owner, which is allowed; two would not be.)
     *
     * @return the segments each running member runs
     */
    private Map<String, Set<Integer>> awaitOneOwnerPerSegment() throws InterruptedException {
        Supplier<Map<String, Set<Integer>>> placed = this::placed;
        awaitUntil(Duration.ofSeconds(20), () -> "placed " + placed.get() + ", running " + running(),
                () -> placed.get() != null && placed.get().keySet().equals(new TreeSet<>(cluster.running()))
                        && oneOwnerEach(placed.get()) && running().equals(placed.get()));
        Map<String, Set<Integer>> settled = placed.get();
        long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
        while (System.nanoTime() < until) {
            assertThat(placed.get()).as("placement while the view is stable").isEqualTo(settled);
            List<Integer> run = new ArrayList<>();
            running().values().forEach(run::addAll);
            assertThat(run).as("segments run while the view is stable").doesNotHaveDuplicates();
            Thread.sleep(20);
        }
        awaitUntil(Duration.ofSeconds(10), () -> "running " + running(), () -> running().equals(settled));
        return settled;
    }

    /** @return the segments placed on each member, when every running member places them alike; else null */
    private @Nullable Map<String, Set<Integer>> placed() {
        Map<Integer, String> first = null;
        for (String node : cluster.running()) {
            Map<Integer, String> placement = cluster.bus(node).segmentOwners(PROCESSOR);
            if (first != null && !first.equals(placement)) {
                return null;
            }
            first = placement;
        }
        Map<String, Set<Integer>> byMember = new TreeMap<>();
        Objects.requireNonNull(first).forEach((segment, member) -> byMember.computeIfAbsent(member,
                key -> new TreeSet<>()).add(segment));
        return byMember;
    }

    /** @return the segments each running member runs (claimed, not fenced) */
    private Map<String, Set<Integer>> running() {
        Map<String, Set<Integer>> owned = new TreeMap<>();
        for (String node : cluster.running()) {
            Set<Integer> mine = new TreeSet<>();
            for (SegmentStatus segment : cluster.node(node).processors().status(PROCESSOR).segments()) {
                if (segment.local() && segment.state() != SegmentState.CLAIMING
                        && segment.state() != SegmentState.FENCED) {
                    mine.add(segment.segment());
                }
            }
            owned.put(node, mine);
        }
        return owned;
    }

    private boolean oneOwnerEach(Map<String, Set<Integer>> owned) {
        List<Integer> all = new ArrayList<>();
        owned.values().forEach(all::addAll);
        return all.size() == SEGMENTS && new TreeSet<>(all).size() == SEGMENTS
                && owned.values().stream().noneMatch(Set::isEmpty);
    }

    /** Waits until the tally has handled every event stored so far. */
    private void awaitHandled(Duration timeout) throws InterruptedException {
        Map<StreamId, Long> stored = storedHeads();
        awaitUntil(timeout, () -> "handled " + tally.heads() + " of " + stored, () -> tally.caughtUpWith(stored));
    }

    private Map<StreamId, Long> storedHeads() {
        Map<StreamId, Long> heads = new HashMap<>();
        for (String ledger : LEDGERS) {
            StreamId stream = StreamId.of("Ledger", ledger);
            heads.put(stream, store.lastSequence(stream));
        }
        return heads;
    }

    private void verifyEveryEventHandled(Load load) throws Exception {
        cluster.awaitConvergence(Duration.ofSeconds(20));
        load.check().verify(store, cluster.anyNode().serializer(), LEDGERS);
        awaitHandled(Duration.ofSeconds(30));
        assertThat(tally.gaps()).as("events handled before an earlier one of their aggregate").isEmpty();
        assertThat(tokens.violations()).as("tokens advanced by a fenced owner").isEmpty();
        assertThat(load.check().acknowledgedCount()).isPositive();
        System.out.printf("%s: %d events handled, %d again after a move; %d fenced claims or updates%n",
                getClass().getSimpleName(), tally.handled(), tally.duplicates(), tokens.refusals());
    }

    private static void awaitUntil(Duration timeout, Supplier<String> what, java.util.function.BooleanSupplier done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what.get());
            }
            Thread.sleep(20);
        }
    }
}
