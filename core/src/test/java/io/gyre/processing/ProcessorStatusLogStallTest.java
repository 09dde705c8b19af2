package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.conformance.Recorder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A tracking processor's status shows the stall its event store reports ({@link GlobalLogMonitor}) while its reader
 * has read all the log lets it read, and not while the reader still has events to read before the stall.
 */
class ProcessorStatusLogStallTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final GlobalLogStall STALL = new GlobalLogStall(Instant.parse("2026-01-01T10:00:00Z"),
            Duration.ofMinutes(3), Instant.parse("2026-01-01T10:03:00Z"), List.of(new GlobalLogStall.BlockingSession(
            4242, "reports", "idle in transaction", Instant.parse("2026-01-01T09:59:59Z"), "UPDATE totals SET n = 1")),
            "the log has stood still for 180 s: end pid 4242");

    private final MonitoredStore store = new MonitoredStore(new InMemoryEventStore());
    private Gyre node;

    @AfterEach
    void close() {
        store.readsGo.countDown();
        if (node != null) {
            node.close();
        }
    }

    /** An in-memory store that reports a stall when told to, and can hold reads after a position. */
    private static final class MonitoredStore extends ForwardingEventStore implements GlobalLogMonitor {

        final AtomicReference<@Nullable GlobalLogStall> stall = new AtomicReference<>();
        volatile long holdReadsAfter = Long.MAX_VALUE;
        final CountDownLatch readsGo = new CountDownLatch(1);
        final CountDownLatch readHeld = new CountDownLatch(1);

        MonitoredStore(EventStore delegate) {
            super(delegate);
        }

        @Override
        public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
            if (after.position() >= holdReadsAfter) {
                readHeld.countDown();
                try {
                    readsGo.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            return super.readAll(after, maxCount);
        }

        @Override
        public Optional<GlobalLogStall> lastStall() {
            return Optional.ofNullable(stall.get());
        }
    }

    private Gyre start(TrackingProcessor.Builder processor) {
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(new InMemoryTokenStore()).build())
                .processor(processor.pollInterval(Duration.ofMillis(20)))
                .processor(SubscribingProcessor.named("cache").handlers(new Recorder()))
                .start();
        return node;
    }

    private void append(String aggregate, String command, long... numbers) {
        store.append(Events.append(aggregate, ExpectedSequence.any(), command, numbers));
    }

    @Test
    void a_caught_up_processor_shows_the_stall_of_its_store_and_no_longer_once_it_ends() {
        Recorder recorder = new Recorder();
        start(TrackingProcessor.named("ledger").segments(2).handlers(recorder));
        append("acc-1", "c1", 1, 2);
        Eventually.await(TIMEOUT, "both events handled", () -> recorder.count() == 2);
        Eventually.await(TIMEOUT, "caught up", () -> node.processors().status("ledger").caughtUp());
        assertThat(node.processors().status("ledger").logStall()).isNull();

        store.stall.set(STALL);

        ProcessorStatus stalled = node.processors().status("ledger");
        assertThat(stalled.logStall()).isEqualTo(STALL);
        assertThat(stalled.logStall().blockingSessions().get(0).sessionId()).isEqualTo(4242);
        assertThat(node.processors().status("cache").logStall())
                .as("a subscribing processor does not read the log").isNull();

        store.stall.set(null);
        assertThat(node.processors().status("ledger").logStall()).isNull();
    }

    @Test
    void a_processor_whose_reader_still_has_events_before_the_stall_is_not_held_back_yet() throws Exception {
        Recorder recorder = new Recorder();
        // Batches of 2: the reader reads a full batch at 0, then is held reading after position 2.
        store.holdReadsAfter = 2;
        store.stall.set(STALL);
        append("acc-1", "c1", 1, 2, 3, 4);
        start(TrackingProcessor.named("ledger").segments(2).batchSize(2).handlers(recorder));
        assertThat(store.readHeld.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        assertThat(node.processors().status("ledger").logStall())
                .as("the reader's last batch was full: it has more to read before the stall").isNull();

        store.readsGo.countDown();
        Eventually.await(TIMEOUT, "all events handled", () -> recorder.count() == 4);
        Eventually.await(TIMEOUT, "the stall shown once the reader has read all",
                () -> STALL.equals(node.processors().status("ledger").logStall()));
    }
}
