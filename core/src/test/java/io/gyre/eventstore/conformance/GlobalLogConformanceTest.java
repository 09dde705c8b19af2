package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every event store must do when following the global log: deliver every committed event exactly once,
 * in an order that keeps each aggregate's sequence, resumable from any token, never skipping an event whose
 * transaction committed late and never stalling on one that rolled back.
 */
public abstract class GlobalLogConformanceTest {

    private EventStoreFixture fixture;
    /** The store under test, fresh for each test. */
    protected EventStore store;

    /** @return a fixture with a fresh, empty store */
    protected abstract EventStoreFixture createFixture();

    /** @return appending threads in the tailing test; stores may lower it to keep the suite fast */
    protected int appenders() {
        return 8;
    }

    /**
     * The fixture of the tailing test. A store may return one whose transactions also roll back or commit slowly
     * at random (appends then fail with an {@link EventStoreException}), to prove that neither is skipped nor
     * waited on for good.
     *
     * @return a fixture with a fresh, empty store
     */
    protected EventStoreFixture createTailingFixture() {
        return createFixture();
    }

    @BeforeEach
    void openStore() {
        fixture = createFixture();
        store = fixture.store();
    }

    @AfterEach
    void closeStore() {
        fixture.close();
    }

    @Test
    void an_empty_store_has_nothing_to_read() {
        assertThat(store.readAll(TrackingToken.START, 10)).isEmpty();
    }

    @Test
    void the_log_is_read_in_batches_in_append_order_and_resumes_from_any_token() {
        for (int i = 0; i < 10; i++) {
            store.append(append("agg-" + (i % 3), i < 3 ? ExpectedSequence.noStream() : ExpectedSequence.any(),
                    "cmd-" + i, i * 2L, i * 2L + 1));
        }
        List<TrackedEvent> all = new ArrayList<>();
        TrackingToken token = TrackingToken.START;
        List<TrackedEvent> batch;
        while (!(batch = store.readAll(token, 7)).isEmpty()) {
            assertThat(batch).hasSizeLessThanOrEqualTo(7);
            all.addAll(batch);
            token = batch.get(batch.size() - 1).token();
        }
        assertThat(all).extracting(tracked -> Events.numberOf(tracked.event()))
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).boxed().toList());
        assertThat(all).extracting(TrackedEvent::token).isSorted().doesNotHaveDuplicates();
        assertThat(store.readAll(token, 7)).isEmpty();

        TrackingToken middle = all.get(11).token();
        assertThat(store.readAll(middle, 100)).extracting(tracked -> Events.numberOf(tracked.event()))
                .containsExactlyElementsOf(java.util.stream.LongStream.range(12, 20).boxed().toList());
        store.append(append("agg-0", ExpectedSequence.any(), "cmd-late", 99));
        assertThat(store.readAll(token, 7)).extracting(tracked -> Events.numberOf(tracked.event()))
                .containsExactly(99L);
    }

    @Test
    void a_reader_tailing_concurrent_appenders_with_conflicts_sees_every_committed_event_exactly_once_in_order()
            throws Exception {
        fixture.close();
        fixture = createTailingFixture();
        store = fixture.store();
        AtomicInteger failed = new AtomicInteger();
        int threads = appenders();
        int appendsPerThread = 150;
        int aggregates = 12;
        AtomicBoolean appending = new AtomicBoolean(true);
        AtomicInteger conflicts = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SplittableRandom random = new SplittableRandom(t);
            int thread = t;
            writers.add(pool.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                for (int i = 0; i < appendsPerThread; i++) {
                    String aggregate = "agg-" + random.nextInt(aggregates);
                    long last = store.lastSequence(Events.stream(aggregate));
                    try {
                        // Racing writers on few aggregates: many appends fail after the database has
                        // handed out positions, leaving holes that must neither be skipped nor waited on.
                        int count = 1 + random.nextInt(3);
                        long[] numbers = new long[count];
                        for (int n = 0; n < count; n++) {
                            numbers[n] = thread * 1_000_000L + i * 10L + n;
                        }
                        store.append(append(aggregate, ExpectedSequence.exactly(last), "t" + thread + "-" + i,
                                numbers));
                    } catch (ConcurrencyConflictException e) {
                        conflicts.incrementAndGet();
                    } catch (EventStoreException e) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        Future<List<TrackedEvent>> reader = pool.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            List<TrackedEvent> seen = new ArrayList<>();
            TrackingToken token = TrackingToken.START;
            while (true) {
                boolean stillAppending = appending.get();
                List<TrackedEvent> batch = store.readAll(token, 64);
                if (batch.isEmpty()) {
                    if (!stillAppending) {
                        return seen;
                    }
                    Thread.sleep(1);
                    continue;
                }
                seen.addAll(batch);
                token = batch.get(batch.size() - 1).token();
            }
        });
        for (Future<?> writer : writers) {
            writer.get(120, TimeUnit.SECONDS);
        }
        appending.set(false);
        List<TrackedEvent> seen = reader.get(120, TimeUnit.SECONDS);
        pool.shutdown();

        Set<String> committed = new HashSet<>();
        for (int a = 0; a < aggregates; a++) {
            try (Stream<StoredEvent> stream = store.readStream(Events.stream("agg-" + a))) {
                stream.forEach(event -> committed.add(event.eventId()));
            }
        }
        Set<String> delivered = new HashSet<>();
        Map<String, Long> lastSequenceSeen = new HashMap<>();
        TrackingToken previous = TrackingToken.START;
        for (TrackedEvent tracked : seen) {
            StoredEvent event = tracked.event();
            assertThat(delivered.add(event.eventId())).as("event %s delivered once", event.eventId()).isTrue();
            assertThat(tracked.token()).as("tokens increase").isGreaterThan(previous);
            previous = tracked.token();
            long expectedSequence = lastSequenceSeen.getOrDefault(event.aggregateId(), -1L) + 1;
            assertThat(event.sequence()).as("sequence of %s in log order", event.aggregateId())
                    .isEqualTo(expectedSequence);
            lastSequenceSeen.put(event.aggregateId(), event.sequence());
        }
        assertThat(delivered).as("delivered = committed").isEqualTo(committed);
        assertThat(conflicts.get()).as("the run produced conflicts").isPositive();
    }

    @Test
    void a_batch_size_below_one_is_refused() {
        assertThatThrownBy(() -> store.readAll(TrackingToken.START, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0");
    }

    @Test
    void a_token_stays_valid_across_a_restart() {
        if (!fixture.durable()) {
            assertThatThrownBy(fixture::reopen).as("a store that keeps nothing cannot be reopened")
                    .isInstanceOf(UnsupportedOperationException.class);
            return;
        }
        store.append(append("a", ExpectedSequence.noStream(), "cmd-1", 1, 2));
        TrackingToken token = store.readAll(TrackingToken.START, 1).get(0).token();
        store = fixture.reopen();
        store.append(append("a", ExpectedSequence.exactly(1), "cmd-2", 3));
        assertThat(store.readAll(token, 10)).extracting(tracked -> Events.numberOf(tracked.event()))
                .containsExactly(2L, 3L);
    }
}
