package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.conformance.Recorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A turn of a segment that has handled every event and only stores its token leaves the segment LIVE: monitoring that
 * alerts on CATCHING_UP saw each such turn as a moment of catching up, with no lag.
 */
class SegmentStatusDuringTokenStoresTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void a_segment_that_has_handled_every_event_stays_live_while_a_turn_stores_its_token() throws Exception {
        AtomicInteger stores = new AtomicInteger();
        TokenStore slowUpdates = new SlowUpdates(new InMemoryTokenStore(), stores);
        Recorder recorder = new Recorder();
        try (Gyre node = Gyre.builder().sharedEventStore(new InMemoryEventStore())
                .processing(ProcessingSettings.builder().tokenStore(slowUpdates).build())
                .processor(TrackingProcessor.named("ledger").segments(1).handlers(recorder)
                        .pollInterval(Duration.ofMillis(20)))
                .start()) {
            Eventually.await(TIMEOUT, () -> "live before the event: " + node.processors().status("ledger"),
                    () -> live(node.processors().status("ledger")));
            List<SegmentStatus> samples = new ArrayList<>();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                SegmentStatus previous = null;
                while (sampling.get()) {
                    // Each change of state or token, so that a flicker of any length is kept, and memory is not.
                    SegmentStatus sample = node.processors().status("ledger").segments().get(0);
                    if (previous == null || sample.state() != previous.state()
                            || !Objects.equals(sample.token(), previous.token())) {
                        samples.add(sample);
                        previous = sample;
                    }
                }
            }, "status-sampler");
            sampler.start();
            int storesBefore = stores.get();
            try {
                node.eventStore().append(Events.append("agg-1", ExpectedSequence.any(), "cmd-1", 1));
                Eventually.await(TIMEOUT, () -> "the event handled and its token stored",
                        () -> recorder.count() == 1 && stores.get() > storesBefore);
                // Sampled a while longer (not to wait for anything): turns that follow may store the token again.
                Thread.sleep(500);
            } finally {
                sampling.set(false);
                sampler.join();
            }
            TrackingToken handledEvent = node.processors().status("ledger").segments().get(0).token();

            // The event's handling turn stores its token (slowly, here) once the event is handled: from the moment the
            // segment's token is past the event, it has nothing left to do, and every sample says LIVE.
            List<SegmentStatus> afterTheEvent = samples.stream().filter(sample -> sample.token() != null
                    && sample.token().compareTo(handledEvent) >= 0).toList();
            assertThat(afterTheEvent).as("samples taken once the event was handled").isNotEmpty();
            assertThat(afterTheEvent).as("samples once the event was handled that were not LIVE")
                    .filteredOn(sample -> sample.state() != SegmentState.LIVE).isEmpty();
        }
    }

    private static boolean live(ProcessorStatus status) {
        return !status.segments().isEmpty()
                && status.segments().stream().allMatch(segment -> segment.state() == SegmentState.LIVE);
    }

    /** Stores tokens slowly, so that a turn that only stores one lasts long enough to be seen. */
    private record SlowUpdates(TokenStore delegate, AtomicInteger stores) implements TokenStore {

        @Override
        public void initialize(String processor, int segments) {
            delegate.initialize(processor, segments);
        }

        @Override
        public TrackingToken claim(String processor, int segment, String owner, long epoch) {
            return delegate.claim(processor, segment, owner, epoch);
        }

        @Override
        public void update(String processor, int segment, String owner, long epoch, TrackingToken token) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            delegate.update(processor, segment, owner, epoch, token);
            stores.incrementAndGet();
        }

        @Override
        public void release(String processor, int segment, String owner, long epoch) {
            delegate.release(processor, segment, owner, epoch);
        }

        @Override
        public List<SegmentToken> tokens(String processor) {
            return delegate.tokens(processor);
        }
    }
}
