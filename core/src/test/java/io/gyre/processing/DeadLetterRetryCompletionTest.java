package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.GyreTransientException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.conformance.Recorder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A retry of dead letters completes its future on every path: a dead-letter store that fails while the retry runs
 * fails the retry (and leaves the segment running), and the letter stays for the next one. At least once, the
 * handler then runs with the event again, as {@code Processors.retryDeadLetters} allows.
 */
class DeadLetterRetryCompletionTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final InMemoryEventStore store = new InMemoryEventStore();
    private Gyre node;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void a_store_failure_while_removing_a_retried_letter_fails_the_retry_and_the_segment_keeps_running()
            throws Exception {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals("agg-1"));
        RefusingRemovals letters = new RefusingRemovals();
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(new InMemoryTokenStore())
                        .deadLetterStore(letters).build())
                .processor(TrackingProcessor.named("ledger").segments(1).pollInterval(Duration.ofMillis(20))
                        .handlers(recorder)
                        .onError(ErrorPolicy.builder().attempts(1).then(ErrorPolicy.Action.DEAD_LETTER).build()))
                .start();
        node.eventStore().append(Events.append("agg-1", ExpectedSequence.noStream(), "cmd-1", 1));
        node.eventStore().append(Events.append("agg-2", ExpectedSequence.noStream(), "cmd-2", 2));
        Eventually.await(TIMEOUT, () -> "agg-1 dead-lettered: " + node.processors().status("ledger"),
                () -> letters.counts("ledger").equals(Map.of(0, 1)) && node.processors().status("ledger").caughtUp());

        failing.set(false);
        letters.refusing.set(true);
        assertThatThrownBy(() -> node.processors().retryDeadLetters("ledger").get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(GyreTransientException.class)
                .hasMessageContaining("segment 0").hasMessageContaining("stay for the next retry")
                .hasRootCauseMessage("removals refused on purpose");
        assertThat(node.processors().status("ledger").segments()).extracting(SegmentStatus::state)
                .doesNotContain(SegmentState.STOPPED);
        assertThat(letters.counts("ledger")).as("the letter stays").isEqualTo(Map.of(0, 1));

        letters.refusing.set(false);
        DeadLetterRetry second = node.processors().retryDeadLetters("ledger").get(10, TimeUnit.SECONDS);

        assertThat(second).isEqualTo(new DeadLetterRetry(1, 0));
        assertThat(letters.counts("ledger")).isEmpty();
        assertThat(recorder.deliveries()).extracting(delivery -> delivery.stream().aggregateId())
                .as("at least once: the retry whose letter stayed ran the handler, the next one runs it again")
                .containsExactly("agg-2", "agg-1", "agg-1");
        append("agg-1", 3);
        Eventually.await(TIMEOUT, () -> "agg-1's next event handled: " + recorder.deliveries(),
                () -> recorder.count() == 4);
    }

    private void append(String aggregate, long number) {
        node.eventStore().append(Events.append(aggregate, ExpectedSequence.any(), "cmd-" + aggregate + number,
                number));
    }

    /** A dead-letter store whose removals fail while told to, as a database that is away for a moment. */
    private static final class RefusingRemovals implements DeadLetterStore {

        final AtomicBoolean refusing = new AtomicBoolean();
        private final InMemoryDeadLetterStore letters = new InMemoryDeadLetterStore();

        @Override
        public void add(DeadLetter letter) {
            letters.add(letter);
        }

        @Override
        public List<DeadLetter> list(String processor, int segment) {
            return letters.list(processor, segment);
        }

        @Override
        public void remove(String processor, String eventId) {
            if (refusing.get()) {
                throw new GyreTransientException("removals refused on purpose");
            }
            letters.remove(processor, eventId);
        }

        @Override
        public void clear(String processor) {
            letters.clear(processor);
        }

        @Override
        public Map<Integer, Integer> counts(String processor) {
            return letters.counts(processor);
        }
    }
}
