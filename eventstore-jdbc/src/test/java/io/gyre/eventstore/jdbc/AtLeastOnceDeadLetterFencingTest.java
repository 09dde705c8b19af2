package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentState;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Recorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An at-least-once processor whose tokens and dead letters share a {@link JdbcProcessingStore} writes its dead
 * letters fenced like its tokens: a member the token store has superseded adds no letter and removes none. Its
 * handlers' effects are its own (at least once): a superseded member's retry may run a handler, and the letter then
 * stays for the segment's owner, which runs it again.
 */
class AtLeastOnceDeadLetterFencingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path folder;

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private JdbcProcessingStore processing;
    private Gyre node;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
        if (store != null) {
            store.close();
        }
        if (database != null) {
            database.close();
        }
    }

    private void start(Recorder recorder, ErrorPolicy policy) {
        database = ProcessingDatabase.onH2(folder);
        store = database.eventStore();
        processing = database.processingStore();
        node = Gyre.builder().name("node-a").sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("ledger").segments(1).pollInterval(Duration.ofMillis(20))
                        .handlers(recorder).onError(policy))
                .start();
    }

    private void supersede() {
        long epoch = processing.tokens("ledger").get(0).epoch();
        processing.claim("ledger", 0, "node-b", epoch + 1);
    }

    private SegmentState state() {
        return node.processors().status("ledger").segment(0).state();
    }

    @Test
    void a_superseded_owner_that_gives_up_on_an_event_leaves_no_dead_letter() {
        Recorder recorder = new Recorder();
        recorder.failWhen(delivery -> delivery.stream().aggregateId().equals("agg-1"));
        start(recorder, ErrorPolicy.builder().attempts(3).backoff(Duration.ofMillis(300), Duration.ofMillis(300))
                .then(ErrorPolicy.Action.DEAD_LETTER).build());
        store.append(append("agg-1", ExpectedSequence.noStream(), "cmd-1", 1));
        Eventually.await(TIMEOUT, () -> "agg-1 retried: " + node.processors().status("ledger"),
                () -> state() == SegmentState.RETRYING);

        supersede();

        Eventually.await(TIMEOUT, () -> "node-a fenced: " + node.processors().status("ledger"),
                () -> state() == SegmentState.FENCED);
        assertThat(recorder.failures()).as("node-a used its attempts up").isEqualTo(3);
        assertThat(processing.counts("ledger")).as("letters left by the superseded owner").isEmpty();
        assertThat(processing.tokens("ledger").get(0).owner()).isEqualTo("node-b");
    }

    @Test
    void a_superseded_member_removes_no_dead_letter_it_retries_and_leaves_it_to_the_owner() throws Exception {
        Recorder recorder = new Recorder();
        AtomicBoolean failing = new AtomicBoolean(true);
        recorder.failWhen(delivery -> failing.get() && delivery.stream().aggregateId().equals("agg-1"));
        start(recorder, ErrorPolicy.builder().attempts(1).then(ErrorPolicy.Action.DEAD_LETTER).build());
        store.append(append("agg-1", ExpectedSequence.noStream(), "cmd-1", 1));
        store.append(append("agg-2", ExpectedSequence.noStream(), "cmd-2", 2));
        Eventually.await(TIMEOUT, () -> "agg-1 dead-lettered: " + node.processors().status("ledger"),
                () -> processing.counts("ledger").equals(Map.of(0, 1))
                        && node.processors().status("ledger").caughtUp());

        supersede();
        failing.set(false);
        DeadLetterRetry retry = node.processors().retryDeadLetters("ledger").get(10, TimeUnit.SECONDS);

        assertThat(retry).isEqualTo(new DeadLetterRetry(0, 1));
        assertThat(processing.counts("ledger")).as("the letter stays for node-b").isEqualTo(Map.of(0, 1));
        assertThat(state()).isEqualTo(SegmentState.FENCED);
    }
}
