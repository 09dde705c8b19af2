package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.conformance.Recorder;
import io.gyre.processing.internal.Segmenter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tracking processors on a node over the in-memory store: delivery, order, failures, reset, restart and fencing.
 * The JDBC module runs the scenarios that need real transactions (late commits, rollbacks, exactly-once effect).
 */
class TrackingProcessorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ErrorPolicy QUICK_STOP = ErrorPolicy.builder().attempts(3)
            .backoff(Duration.ofMillis(5), Duration.ofMillis(20)).build();

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final InMemoryTokenStore tokens = new InMemoryTokenStore();
    private final InMemoryDeadLetterStore deadLetters = new InMemoryDeadLetterStore();
    private final List<Gyre> nodes = new ArrayList<>();
    private final AtomicLong commands = new AtomicLong();

    @AfterEach
    void close() {
        nodes.forEach(Gyre::close);
    }

    private Gyre node(TrackingProcessor.Builder processor) {
        return node(processor, ProcessingSettings.builder().tokenStore(tokens).deadLetterStore(deadLetters).build());
    }

    private Gyre node(TrackingProcessor.Builder processor, ProcessingSettings settings) {
        Gyre node = Gyre.builder().sharedEventStore(store).processing(settings)
                .processor(processor.pollInterval(Duration.ofMillis(20))).start();
        nodes.add(node);
        return node;
    }

    /** Appends events numbered {@code numbers} to an aggregate, through the node so that its processors wake. */
    private void append(EventStore through, String aggregate, long... numbers) {
        through.append(Events.append(aggregate, ExpectedSequence.any(), "cmd-" + commands.incrementAndGet(),
                numbers));
    }

    private static void awaitCaughtUp(Gyre node, String processor) {
        Eventually.await(TIMEOUT, () -> "processor caught up: " + node.processors().status(processor),
                () -> node.processors().status(processor).caughtUp());
    }

    private static int segmentOf(String aggregate, int segments) {
        return Segmenter.segmentOf(Events.TYPE, aggregate, segments);
    }

    /** Finds aggregate ids that fall into distinct segments, the first in {@code segment}. */
    private static List<String> aggregatesIn(int segments, int... wanted) {
        List<String> found = new ArrayList<>();
        for (int segment : wanted) {
            for (int i = 0; ; i++) {
                String candidate = "agg-" + i;
                if (segmentOf(candidate, segments) == segment && !found.contains(candidate)) {
                    found.add(candidate);
                    break;
                }
            }
        }
        return found;
    }

    @Test
    void events_of_concurrent_appenders_are_each_delivered_once_in_aggregate_order_by_the_aggregates_segment()
            throws Exception {
        Recorder recorder = new Recorder();
        Gyre node = node(TrackingProcessor.named("ledger").segments(8).threads(3).batchSize(64).handlers(recorder));
        int threads = 4;
        int aggregates = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers.add(pool.submit(() -> {
                for (int i = 0; i < 250; i++) {
                    append(node.eventStore(), "agg-" + ((thread * 7 + i) % aggregates), thread * 10_000L + i);
                }
                return null;
            }));
        }
        try {
            for (Future<?> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        Eventually.await(TIMEOUT, () -> "1000 deliveries, got " + recorder.count(), () -> recorder.count() >= 1000);
        awaitCaughtUp(node, "ledger");
        assertThat(recorder.deliveries()).extracting(Recorder.Delivery::eventId).doesNotHaveDuplicates().hasSize(1000);
        recorder.sequencesByStream().forEach((stream, sequences) -> assertThat(sequences).as("order of %s", stream)
                .containsExactlyElementsOf(LongStream.range(0, sequences.size()).boxed().toList()));
        assertThat(recorder.deliveries()).allSatisfy(delivery -> assertThat(delivery.segment())
                .isEqualTo(segmentOf(delivery.stream().aggregateId(), 8)));
        Map<Integer, Set<String>> threadsBySegment = new HashMap<>();
        recorder.deliveries().forEach(delivery -> threadsBySegment.computeIfAbsent(delivery.segment(),
                segment -> new HashSet<>()).add(delivery.thread()));
        assertThat(threadsBySegment.keySet()).as("every segment got events").hasSize(8);
        // Every segment gets to LIVE at the end of the log (a turn that only stores a token keeps it there:
        // SegmentStatusDuringTokenStoresTest).
        Eventually.await(TIMEOUT, () -> "every segment live: " + node.processors().status("ledger"),
                () -> node.processors().status("ledger").segments().stream()
                        .allMatch(segment -> segment.state() == SegmentState.LIVE));
        ProcessorStatus status = node.processors().status("ledger");
        assertThat(status.segments()).allSatisfy(segment -> {
            assertThat(segment.token()).isEqualTo(TrackingToken.at(1000));
            assertThat(segment.lagEvents()).isZero();
            assertThat(segment.owner()).startsWith("gyre@");
        });
    }

    @Test
    void a_handler_that_fails_a_few_times_is_retried_with_back_off_while_the_other_segments_go_on() {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        List<String> aggregates = aggregatesIn(4, 1, 2);
        String failingAggregate = aggregates.get(0);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals(failingAggregate)
                && delivery.sequence() == 1);
        Gyre node = node(TrackingProcessor.named("ledger").segments(4).handlers(recorder).onError(ErrorPolicy.builder()
                .attempts(1000).backoff(Duration.ofMillis(5), Duration.ofMillis(50)).build()));

        append(node.eventStore(), failingAggregate, 0, 1, 2);
        append(node.eventStore(), aggregates.get(1), 10, 11);
        Eventually.await(TIMEOUT, "the failing segment retries", () -> recorder.failures() >= 3
                && node.processors().status("ledger").segment(1).state() == SegmentState.RETRYING);
        for (int i = 0; i < 20; i++) {
            append(node.eventStore(), aggregates.get(1), 100 + i);
        }

        Eventually.await(TIMEOUT, "the other segment handles all its events while the first retries",
                () -> recorder.sequencesByStream().getOrDefault(StreamId.of(Events.TYPE, aggregates.get(1)), List.of())
                        .size() == 22);
        SegmentStatus retrying = node.processors().status("ledger").segment(1);
        assertThat(retrying.state()).isEqualTo(SegmentState.RETRYING);
        assertThat(retrying.failure()).isNotNull();
        assertThat(retrying.failure().stream()).isEqualTo(StreamId.of(Events.TYPE, failingAggregate));
        assertThat(retrying.failure().sequence()).isEqualTo(1);
        assertThat(retrying.failure().cause()).contains("failing on purpose");
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .as("nothing after the failing event").containsExactly(0L);

        failing.set(false);
        awaitCaughtUp(node, "ledger");
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .containsExactly(0L, 1L, 2L);
        assertThat(node.processors().status("ledger").segment(1).failure()).isNull();
    }

    @Test
    void a_handler_that_keeps_failing_stops_its_segment_where_it_failed_and_resumes_on_command() {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        List<String> aggregates = aggregatesIn(4, 0, 3);
        String failingAggregate = aggregates.get(0);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals(failingAggregate)
                && delivery.sequence() == 1);
        Gyre node = node(TrackingProcessor.named("ledger").segments(4).handlers(recorder).onError(QUICK_STOP));

        append(node.eventStore(), failingAggregate, 0, 1, 2);
        append(node.eventStore(), aggregates.get(1), 10, 11);
        Eventually.await(TIMEOUT, "the segment stops", () -> node.processors().status("ledger").segment(0).state()
                == SegmentState.STOPPED);
        append(node.eventStore(), aggregates.get(1), 12);
        append(node.eventStore(), failingAggregate, 3);

        Eventually.await(TIMEOUT, "the other segment goes on", () -> recorder.sequencesByStream()
                .getOrDefault(StreamId.of(Events.TYPE, aggregates.get(1)), List.of()).size() == 3);
        SegmentStatus stopped = node.processors().status("ledger").segment(0);
        assertThat(recorder.failures()).as("attempts before giving up").isEqualTo(3);
        assertThat(stopped.failure().attempts()).isEqualTo(3);
        assertThat(stopped.failure().token()).isEqualTo(TrackingToken.at(2));
        assertThat(stopped.token()).as("the token stays before the failing event").isEqualTo(TrackingToken.at(1));
        assertThat(tokens.tokens("ledger").get(0).token()).as("and so does the stored one")
                .isEqualTo(TrackingToken.at(1));
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate))).containsExactly(0L);

        failing.set(false);
        node.processors().resume("ledger");
        awaitCaughtUp(node, "ledger");
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .containsExactly(0L, 1L, 2L, 3L);
    }

    @Test
    void a_resumed_segment_that_handles_its_failing_event_reports_no_failure_any_more() {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        String failingAggregate = aggregatesIn(4, 0).get(0);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals(failingAggregate)
                && delivery.sequence() == 1);
        Gyre node = node(TrackingProcessor.named("ledger").segments(4).handlers(recorder).onError(QUICK_STOP));
        append(node.eventStore(), failingAggregate, 0, 1, 2);
        Eventually.await(TIMEOUT, "the segment stops", () -> node.processors().status("ledger").segment(0).state()
                == SegmentState.STOPPED);
        assertThat(node.processors().status("ledger").segment(0).failure()).isNotNull();

        failing.set(false);
        node.processors().resume("ledger");
        awaitCaughtUp(node, "ledger");

        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .containsExactly(0L, 1L, 2L);
        assertThat(node.processors().status("ledger").segment(0).failure())
                .as("the failure of an event the segment has since handled").isNull();
    }

    @Test
    void a_segment_fenced_while_it_stores_its_token_before_a_retry_stays_fenced_and_calls_no_handler_again() {
        // Events before the failing one were handled, so the retry's back-off first stores their token; another node
        // has taken the segment meanwhile. The fence must hold: the worker set itself RETRYING (and later STOPPED)
        // over it and went on calling the handler as a superseded owner.
        Recorder recorder = new Recorder();
        AtomicBoolean takenOver = new AtomicBoolean();
        String aggregate = aggregatesIn(1, 0).get(0);
        recorder.failWhen(delivery -> {
            if (delivery.sequence() != 2) {
                return false;
            }
            if (takenOver.compareAndSet(false, true)) {
                long epoch = tokens.tokens("ledger").get(0).epoch();
                tokens.claim("ledger", 0, "another-node", epoch + 1);
            }
            return true;
        });
        Gyre node = node(TrackingProcessor.named("ledger").segments(1).handlers(recorder).onError(QUICK_STOP));

        append(node.eventStore(), aggregate, 0, 1, 2);
        Eventually.await(TIMEOUT, () -> "the segment is fenced or stopped: " + node.processors().status("ledger"),
                () -> node.processors().status("ledger").segment(0).state() == SegmentState.FENCED
                        || node.processors().status("ledger").segment(0).state() == SegmentState.STOPPED);

        assertThat(node.processors().status("ledger").segment(0).state()).isEqualTo(SegmentState.FENCED);
        assertThat(recorder.failures()).as("calls with the failing event").isEqualTo(1);
        assertThat(tokens.tokens("ledger").get(0).owner()).isEqualTo("another-node");
    }

    @Test
    void a_transactional_handler_failing_after_other_segments_progress_marks_meets_its_policy() throws Exception {
        // The failing event's batch holds an event before it and marks of the other segment's events between them;
        // the redo of the events before it must stop before it (it looped for ever when it counted the marks).
        List<String> aggregates = aggregatesIn(2, 0, 1);
        String failingAggregate = aggregates.get(0);
        String other = aggregates.get(1);
        InMemoryEventStore log = new InMemoryEventStore();
        append(log, other, 100, 101);                 // the first batch: only the other segment's events
        append(log, failingAggregate, 0);
        append(log, other, 110);                      // a mark of the other segment after the failing aggregate's #0
        append(log, failingAggregate, 1);             // fails every time
        append(log, other, 111);
        CountDownLatch firstHeld = new CountDownLatch(1);
        Recorder recorder = new Recorder();
        recorder.failWhen(delivery -> {
            if (delivery.n() == 100 && firstHeld.getCount() > 0) {
                // Holds the one worker thread while the reader queues the failing aggregate's events and marks.
                firstHeld.countDown();
                sleep(300);
            }
            return delivery.stream().aggregateId().equals(failingAggregate) && delivery.sequence() == 1;
        });
        UncommittedWrites transactions = new UncommittedWrites();
        Gyre node = Gyre.builder().sharedEventStore(log)
                .processing(ProcessingSettings.builder().tokenStore(transactions.tokenStore()).build())
                .processor(TrackingProcessor.named("ledger").segments(2).threads(1).batchSize(2)
                        .pollInterval(Duration.ofMillis(20)).handlers(recorder)
                        .delivery(Delivery.transactional(transactions))
                        .onError(ErrorPolicy.builder().attempts(2).backoff(Duration.ofMillis(1), Duration.ofMillis(1))
                                .build()))
                .start();
        nodes.add(node);

        int segment = segmentOf(failingAggregate, 2);
        Eventually.await(TIMEOUT, () -> "the failing segment stops: " + node.processors().status("ledger"),
                () -> node.processors().status("ledger").segment(segment).state() == SegmentState.STOPPED);
        SegmentStatus stopped = node.processors().status("ledger").segment(segment);
        assertThat(stopped.failure().stream()).isEqualTo(StreamId.of(Events.TYPE, failingAggregate));
        assertThat(stopped.failure().sequence()).isEqualTo(1);
        assertThat(recorder.failures()).as("calls with the failing event").isBetween(2, 3);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Transactions whose writes go nowhere; tokens are stored in memory as they commit. */
    private static final class UncommittedWrites implements ProcessingTransactions {

        private final InMemoryTokenStore tokens = new InMemoryTokenStore();

        @Override
        public Class<?> resourceType() {
            return Object.class;
        }

        @Override
        public TokenStore tokenStore() {
            return tokens;
        }

        @Override
        public ProcessingTransaction begin() {
            return new ProcessingTransaction() {
                @Override
                public Object resource() {
                    return this;
                }

                @Override
                public void updateToken(String processor, int segment, String owner, long epoch, TrackingToken token) {
                    tokens.update(processor, segment, owner, epoch, token);
                }

                @Override
                public void fence(String processor, int segment, String owner, long epoch) {
                    SegmentToken row = tokens.tokens(processor).get(segment);
                    if (row.epoch() != epoch || !owner.equals(row.owner())) {
                        throw new StaleSegmentOwnerException(processor, segment, owner, epoch, row.owner(),
                                row.epoch());
                    }
                }

                @Override
                public void commit() {
                }

                @Override
                public void close() {
                }
            };
        }
    }

    @Test
    void a_dead_lettered_event_holds_back_its_aggregates_later_events_only_until_the_letters_are_retried() {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        List<String> sameSegment = new ArrayList<>();
        for (int i = 0; sameSegment.size() < 2; i++) {
            if (segmentOf("agg-" + i, 2) == 0) {
                sameSegment.add("agg-" + i);
            }
        }
        String failingAggregate = sameSegment.get(0);
        String neighbour = sameSegment.get(1);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals(failingAggregate)
                && delivery.sequence() == 1);
        Gyre node = node(TrackingProcessor.named("ledger").segments(2).handlers(recorder)
                .onError(ErrorPolicy.builder().attempts(2).backoff(Duration.ofMillis(5), Duration.ofMillis(5))
                        .then(ErrorPolicy.Action.DEAD_LETTER).build()));

        append(node.eventStore(), failingAggregate, 0, 1, 2);
        append(node.eventStore(), neighbour, 10);
        append(node.eventStore(), failingAggregate, 3);
        append(node.eventStore(), neighbour, 11);
        awaitCaughtUp(node, "ledger");

        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .as("only the event before the dead letter").containsExactly(0L);
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, neighbour)))
                .as("the same segment goes on").containsExactly(0L, 1L);
        assertThat(deadLetters.list("ledger", 0)).extracting(letter -> letter.event().sequence())
                .containsExactly(1L, 2L, 3L);
        assertThat(deadLetters.list("ledger", 0).get(0).attempts()).isEqualTo(2);
        assertThat(deadLetters.list("ledger", 0).get(1).cause()).contains("waits behind");
        assertThat(node.processors().status("ledger").segment(0).deadLetters()).isEqualTo(3);

        failing.set(false);
        DeadLetterRetry retry = node.processors().retryDeadLetters("ledger").join();

        assertThat(retry).isEqualTo(new DeadLetterRetry(3, 0));
        assertThat(recorder.sequencesByStream().get(StreamId.of(Events.TYPE, failingAggregate)))
                .containsExactly(0L, 1L, 2L, 3L);
        append(node.eventStore(), failingAggregate, 4);
        Eventually.await(TIMEOUT, "later events flow again", () -> recorder.sequencesByStream()
                .get(StreamId.of(Events.TYPE, failingAggregate)).size() == 5);
        assertThat(deadLetters.counts("ledger")).isEmpty();
    }

    /** A read model: per aggregate, the sum and the count of its numbers. */
    static final class Totals {
        private final Map<String, long[]> totals = new java.util.concurrent.ConcurrentHashMap<>();
        private int resets;

        @EventHandler
        void on(io.gyre.processing.conformance.Numbered event, StreamId stream) {
            long[] total = totals.computeIfAbsent(stream.aggregateId(), id -> new long[2]);
            synchronized (total) {
                total[0] += event.n();
                total[1]++;
            }
        }

        @ResetHandler
        synchronized void clear() {
            totals.clear();
            resets++;
        }

        Map<String, List<Long>> snapshot() {
            return totals.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                    entry -> List.of(entry.getValue()[0], entry.getValue()[1])));
        }
    }

    @Test
    void a_reset_clears_the_read_model_and_the_replay_rebuilds_it_identically() {
        Totals totals = new Totals();
        Gyre node = node(TrackingProcessor.named("totals").segments(4).batchSize(50).handlers(totals));
        for (int i = 0; i < 500; i++) {
            append(node.eventStore(), "agg-" + (i % 23), i);
        }
        Eventually.await(TIMEOUT, "500 events counted", () -> totals.snapshot().values().stream()
                .mapToLong(total -> total.get(1)).sum() == 500);
        awaitCaughtUp(node, "totals");
        Map<String, List<Long>> before = totals.snapshot();

        node.processors().reset("totals").join();

        Eventually.await(TIMEOUT, "the replay", () -> node.processors().status("totals").caughtUp()
                && totals.snapshot().equals(before));
        assertThat(totals.resets).isEqualTo(1);
        // Caught up is the node's own progress; each segment stores it after its batch (all four were still at 0,
        // the reset's, in one clean-clone CI run).
        Eventually.await(TIMEOUT, () -> "every stored token at 500: " + tokens.tokens("totals"),
                () -> tokens.tokens("totals").stream().allMatch(row -> row.token().equals(TrackingToken.at(500))));
    }

    @Test
    void a_reset_to_a_position_replays_only_what_comes_after_it() {
        Recorder recorder = new Recorder();
        Gyre node = node(TrackingProcessor.named("ledger").segments(2).handlers(recorder));
        for (int i = 0; i < 10; i++) {
            append(node.eventStore(), "agg-" + (i % 3), i);
        }
        Eventually.await(TIMEOUT, "10 deliveries", () -> recorder.count() == 10);

        node.processors().reset("ledger", TrackingToken.at(6)).join();

        Eventually.await(TIMEOUT, "4 replayed", () -> recorder.count() == 4);
        awaitCaughtUp(node, "ledger");
        assertThat(recorder.deliveries()).extracting(Recorder.Delivery::n).containsExactlyInAnyOrder(6L, 7L, 8L, 9L);
    }

    @Test
    void a_restarted_node_continues_from_the_stored_tokens() {
        Recorder first = new Recorder();
        Gyre node = node(TrackingProcessor.named("ledger").segments(4).handlers(first));
        for (int i = 0; i < 100; i++) {
            append(node.eventStore(), "agg-" + (i % 9), i);
        }
        Eventually.await(TIMEOUT, "100 deliveries", () -> first.count() == 100);
        awaitCaughtUp(node, "ledger");
        node.close();
        for (int i = 100; i < 150; i++) {
            append(store, "agg-" + (i % 9), i);
        }

        Recorder second = new Recorder();
        Gyre restarted = node(TrackingProcessor.named("ledger").segments(4).handlers(second));

        Eventually.await(TIMEOUT, "50 deliveries", () -> second.count() == 50);
        awaitCaughtUp(restarted, "ledger");
        assertThat(second.deliveries()).extracting(Recorder.Delivery::n)
                .containsExactlyInAnyOrderElementsOf(LongStream.range(100, 150).boxed().toList());
        assertThat(tokens.tokens("ledger")).allSatisfy(row -> assertThat(row.owner()).isNotNull());
    }

    @Test
    void a_segment_stores_its_progress_past_other_segments_events_within_a_second_when_the_log_goes_quiet() {
        List<String> aggregates = aggregatesIn(2, 1, 0);
        Recorder recorder = new Recorder();
        Gyre node = node(TrackingProcessor.named("ledger").segments(2).handlers(recorder));
        append(node.eventStore(), aggregates.get(0), 1);
        Eventually.await(TIMEOUT, "segment 1 stores its token after its own event",
                () -> tokens.tokens("ledger").get(1).token().equals(TrackingToken.at(1)));
        // Within a second of that store, an event of segment 0 only: segment 1 passes it and may wait to store.
        append(node.eventStore(), aggregates.get(1), 2);
        Eventually.await(TIMEOUT, "segment 0 handles its event", () -> recorder.count() == 2);
        // Nothing more comes: segment 1's stored token must still reach 2 (it stayed at 1 for good before).
        Eventually.await(Duration.ofSeconds(10), () -> "both stored tokens at 2: " + tokens.tokens("ledger"),
                () -> tokens.tokens("ledger").stream().allMatch(row -> row.token().equals(TrackingToken.at(2))));
    }

    @Test
    void a_node_whose_segments_were_claimed_with_a_newer_epoch_is_fenced_and_stops_handling() {
        Recorder older = new Recorder();
        Gyre first = node(TrackingProcessor.named("ledger").segments(2).handlers(older),
                ProcessingSettings.builder().tokenStore(tokens).segmentOwnership(new LocalSegmentOwnership("node-a",
                        Clock.fixed(Instant.parse("2026-01-01T00:00:01Z"), ZoneOffset.UTC))).build());
        append(first.eventStore(), "agg-1", 1);
        Eventually.await(TIMEOUT, "the first node handles it and stores its token", () -> older.count() == 1
                && tokens.tokens("ledger").get(segmentOf("agg-1", 2)).token().equals(TrackingToken.at(1)));

        Recorder newer = new Recorder();
        Gyre second = node(TrackingProcessor.named("ledger").segments(2).handlers(newer),
                ProcessingSettings.builder().tokenStore(tokens).segmentOwnership(new LocalSegmentOwnership("node-b",
                        Clock.fixed(Instant.parse("2026-01-01T00:00:02Z"), ZoneOffset.UTC))).build());
        Eventually.await(TIMEOUT, "the second node claims both segments",
                () -> tokens.tokens("ledger").stream().allMatch(row -> "node-b".equals(row.owner())));
        for (int i = 0; i < 20; i++) {
            append(second.eventStore(), "agg-" + i, 100 + i);
            append(first.eventStore(), "agg-" + i, 200 + i);
        }

        Eventually.await(TIMEOUT, "the first node is fenced on both segments", () -> first.processors()
                .status("ledger").segments().stream().allMatch(segment -> segment.state() == SegmentState.FENCED));
        // Half the events were appended through the first node: the second counts them in its caught-up status only
        // once its reader has polled them, so it may report caught up before it has read the last of them.
        Eventually.await(TIMEOUT, "the second node handles the 40 events", () -> newer.count() >= 40);
        awaitCaughtUp(second, "ledger");
        assertThat(newer.deliveries()).as("everything after the stored tokens, once").hasSize(40)
                .extracting(Recorder.Delivery::n).doesNotContain(1L);
        assertThat(first.processors().status("ledger").segment(0).owner()).isEqualTo("node-a");
        // Caught up is the node's own progress (SegmentStatus.token); a segment stores it after its batch, so the
        // stored token may still be one batch behind here (40 against 41, seen in a full build).
        Eventually.await(TIMEOUT, () -> "both stored tokens at 41: " + tokens.tokens("ledger"),
                () -> tokens.tokens("ledger").stream().allMatch(row -> row.token().equals(TrackingToken.at(41))));
        assertThat(tokens.tokens("ledger")).allSatisfy(row -> {
            assertThat(row.owner()).isEqualTo("node-b");
            assertThat(row.epoch()).isEqualTo(SegmentEpoch.ofNodeAlone(Instant.parse("2026-01-01T00:00:02Z")));
            assertThat(row.token()).isEqualTo(TrackingToken.at(41));
        });
    }

    @Test
    void a_node_started_after_a_run_whose_clock_ran_ahead_takes_the_segments_over_instead_of_staying_fenced() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        Recorder earlier = new Recorder();
        Gyre ahead = node(TrackingProcessor.named("ledger").segments(2).handlers(earlier),
                ProcessingSettings.builder().tokenStore(tokens).segmentOwnership(new LocalSegmentOwnership("node-a",
                        Clock.fixed(now.plus(Duration.ofDays(30)), ZoneOffset.UTC))).build());
        append(ahead.eventStore(), "agg-1", 1);
        Eventually.await(TIMEOUT, "the first run handles it", () -> earlier.count() == 1);
        ahead.close();
        nodes.remove(ahead);

        Recorder later = new Recorder();
        Gyre behind = node(TrackingProcessor.named("ledger").segments(2).handlers(later),
                ProcessingSettings.builder().tokenStore(tokens).segmentOwnership(new LocalSegmentOwnership("node-b",
                        Clock.fixed(now.plusSeconds(5), ZoneOffset.UTC))).build());
        for (int i = 0; i < 10; i++) {
            append(behind.eventStore(), "agg-" + i, 100 + i);
        }

        awaitCaughtUp(behind, "ledger");
        assertThat(later.deliveries()).extracting(Recorder.Delivery::n).hasSize(10).doesNotContain(1L);
        assertThat(behind.processors().status("ledger").segments()).extracting(SegmentStatus::state)
                .containsOnly(SegmentState.LIVE);
        assertThat(tokens.tokens("ledger")).allSatisfy(row -> assertThat(row.owner()).isEqualTo("node-b"));
    }

    @Test
    void the_status_reports_lag_while_a_segment_catches_up() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Object blocking = new Object() {
            @EventHandler
            void on(io.gyre.processing.conformance.Numbered event) throws InterruptedException {
                release.await(30, TimeUnit.SECONDS);
            }
        };
        Gyre node = node(TrackingProcessor.named("slow").segments(1).batchSize(10).handlers(blocking));
        for (int i = 0; i < 30; i++) {
            append(node.eventStore(), "agg-1", i);
        }

        Eventually.await(TIMEOUT, "the segment catches up with lag", () -> {
            SegmentStatus segment = node.processors().status("slow").segment(0);
            return segment.state() == SegmentState.CATCHING_UP && segment.lagEvents() > 0;
        });
        release.countDown();
        awaitCaughtUp(node, "slow");
        SegmentStatus live = node.processors().status("slow").segment(0);
        assertThat(live.lagEvents()).isZero();
        assertThat(live.lagTime()).isEqualTo(Duration.ZERO);
        assertThat(live.token()).isEqualTo(TrackingToken.at(30));
    }
}
