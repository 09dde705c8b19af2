package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Recorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tracking processor over the JDBC event store while appends race, roll back and commit late: every committed event
 * is delivered, once, in its aggregate's order, and none is skipped, on H2 and on PostgreSQL.
 */
class TrackingProcessorOnJdbcTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    abstract static class Scenario {

        private ProcessingDatabase database;
        private CommitControl control;
        private JdbcEventStore store;
        private JdbcProcessingStore processing;
        private final List<Gyre> nodes = new ArrayList<>();

        abstract ProcessingDatabase open();

        private void start() {
            database = open();
            control = new CommitControl(database.dataSource(), database.tables().events());
            store = JdbcEventStore.builder(control).tableNames(database.tables()).createSchema(true).build();
            processing = database.processingStore();
        }

        private Gyre node(Recorder recorder) {
            Gyre node = Gyre.builder().sharedEventStore(store)
                    .processing(ProcessingSettings.builder().tokenStore(processing).build())
                    .processor(TrackingProcessor.named("ledger").segments(4).threads(2).batchSize(32)
                            .pollInterval(Duration.ofMillis(20)).handlers(recorder))
                    .start();
            nodes.add(node);
            return node;
        }

        @AfterEach
        void close() {
            nodes.forEach(Gyre::close);
            if (store != null) {
                store.close();
            }
            if (database != null) {
                database.close();
            }
        }

        private Set<String> committedEventIds(int aggregates) {
            Set<String> committed = new HashSet<>();
            for (int a = 0; a < aggregates; a++) {
                try (Stream<StoredEvent> stream = store.readStream(Events.stream("agg-" + a))) {
                    stream.forEach(event -> committed.add(event.eventId()));
                }
            }
            return committed;
        }

        @Test
        void every_committed_event_of_racing_appenders_with_rollbacks_and_late_commits_is_delivered_once_in_order()
                throws Exception {
            start();
            control.randomly(0.15, 3);
            Recorder recorder = new Recorder();
            Gyre node = node(recorder);
            int threads = 6;
            int aggregates = 12;
            AtomicInteger conflicts = new AtomicInteger();
            AtomicInteger rolledBack = new AtomicInteger();
            CyclicBarrier go = new CyclicBarrier(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom random = new SplittableRandom(t);
                int thread = t;
                writers.add(pool.submit(() -> {
                    go.await(10, TimeUnit.SECONDS);
                    for (int i = 0; i < 100; i++) {
                        String aggregate = "agg-" + random.nextInt(aggregates);
                        long last = store.lastSequence(Events.stream(aggregate));
                        try {
                            store.append(append(aggregate, ExpectedSequence.exactly(last), "t" + thread + "-" + i,
                                    thread * 1_000L + i, thread * 1_000L + i + 500));
                        } catch (ConcurrencyConflictException e) {
                            conflicts.incrementAndGet();
                        } catch (EventStoreException e) {
                            rolledBack.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            try {
                for (Future<?> writer : writers) {
                    writer.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            control.randomly(0, 0);
            Set<String> committed = committedEventIds(aggregates);

            Eventually.await(TIMEOUT, () -> "every committed event delivered: " + recorder.count() + " of "
                    + committed.size() + ", " + node.processors().status("ledger"),
                    () -> recorder.count() >= committed.size());
            Eventually.await(TIMEOUT, "caught up", () -> node.processors().status("ledger").caughtUp());
            assertThat(recorder.deliveries()).extracting(Recorder.Delivery::eventId).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(committed);
            recorder.sequencesByStream().forEach((stream, sequences) -> assertThat(sequences)
                    .as("%s in order, none skipped", stream)
                    .containsExactlyElementsOf(LongStream.range(0, sequences.size()).boxed().toList()));
            assertThat(conflicts.get()).as("the run had conflicts").isPositive();
            assertThat(rolledBack.get()).as("the run had rollbacks").isPositive();
            assertThat(processing.tokens("ledger")).extracting(SegmentToken::owner).containsOnly(
                    node.processors().status("ledger").segment(0).owner());
        }

        @Test
        void an_event_that_commits_after_a_later_one_is_delivered_in_its_place_and_a_rollback_stalls_nothing()
                throws Exception {
            start();
            Recorder recorder = new Recorder();
            Gyre node = node(recorder);
            store.append(append("agg-0", ExpectedSequence.noStream(), "cmd-first", 1));
            Eventually.await(TIMEOUT, "the first event", () -> recorder.count() == 1);

            CommitControl.Hold late = control.holdNextInsert(true);
            CompletableFuture<Void> lateAppend = CompletableFuture.runAsync(() ->
                    store.append(append("agg-1", ExpectedSequence.noStream(), "cmd-late", 2)));
            assertThat(late.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> early = CompletableFuture.runAsync(() ->
                    store.append(append("agg-2", ExpectedSequence.noStream(), "cmd-early", 3)));
            if (database.postgres()) {
                // PostgreSQL commits the later insert first; H2's commit gate holds it back until the earlier ends.
                early.get(30, TimeUnit.SECONDS);
            }
            late.release.countDown();
            lateAppend.get(30, TimeUnit.SECONDS);
            early.get(30, TimeUnit.SECONDS);

            CommitControl.Hold doomed = control.holdNextInsert(false);
            CompletableFuture<Void> doomedAppend = CompletableFuture.runAsync(() ->
                    store.append(append("agg-3", ExpectedSequence.noStream(), "cmd-doomed", 4)));
            assertThat(doomed.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            doomed.release.countDown();
            assertThat(doomedAppend).failsWithin(30, TimeUnit.SECONDS);
            store.append(append("agg-4", ExpectedSequence.noStream(), "cmd-after", 5));

            Eventually.await(TIMEOUT, "the late, early and after events", () -> recorder.count() == 4
                    && node.processors().status("ledger").caughtUp());
            assertThat(recorder.deliveries()).extracting(Recorder.Delivery::n).containsExactlyInAnyOrder(1L, 2L, 3L,
                    5L);
            Map<Integer, List<Recorder.Delivery>> bySegment = new HashMap<>();
            recorder.deliveries().forEach(delivery -> bySegment.computeIfAbsent(delivery.segment(),
                    segment -> new ArrayList<>()).add(delivery));
            bySegment.values().forEach(deliveries -> assertThat(deliveries).extracting(Recorder.Delivery::token)
                    .as("each segment in log order").isSorted());
        }

        @Test
        void a_restarted_node_goes_on_from_the_tokens_stored_in_the_database() {
            start();
            Recorder first = new Recorder();
            Gyre node = node(first);
            for (int i = 0; i < 60; i++) {
                store.append(append("agg-" + (i % 7), ExpectedSequence.any(), "cmd-" + i, i));
            }
            Eventually.await(TIMEOUT, "60 events", () -> first.count() == 60
                    && node.processors().status("ledger").caughtUp());
            node.close();
            for (int i = 60; i < 90; i++) {
                store.append(append("agg-" + (i % 7), ExpectedSequence.any(), "cmd-" + i, i));
            }

            Recorder second = new Recorder();
            Gyre restarted = node(second);

            Eventually.await(TIMEOUT, "30 new events", () -> second.count() >= 30
                    && restarted.processors().status("ledger").caughtUp());
            assertThat(second.deliveries()).extracting(Recorder.Delivery::n)
                    .containsExactlyInAnyOrderElementsOf(LongStream.range(60, 90).boxed().toList());
        }
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;

        @Override
        ProcessingDatabase open() {
            return ProcessingDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        @Override
        ProcessingDatabase open() {
            return ProcessingDatabase.onPostgres();
        }
    }
}
