package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Subscribing processors run on the appending node right after the commit; node appends also wake trackers. */
class SubscribingProcessorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final InMemoryDeadLetterStore deadLetters = new InMemoryDeadLetterStore();
    private Gyre node;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
    }

    /** Records each Added it sees, and whether the event was already stored when it saw it. */
    final class Notifier {
        final List<String> seen = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean failing = new AtomicBoolean();

        @EventHandler
        void on(Added event, EventContext context) {
            if (failing.get()) {
                throw new IllegalStateException("mail server down");
            }
            boolean stored;
            try (Stream<StoredEvent> stream = store.readStream(context.stream())) {
                stored = stream.anyMatch(e -> e.eventId().equals(context.eventId()));
            }
            seen.add(context.stream().aggregateId() + "#" + context.sequence() + "=" + event.amount()
                    + (stored ? "" : " NOT STORED") + (context.token() == null ? "" : " WITH TOKEN"));
        }
    }

    private Gyre start(SubscribingProcessor.Builder processor) {
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class)
                .processing(ProcessingSettings.builder().deadLetterStore(deadLetters).build())
                .processor(processor).start();
        return node;
    }

    @Test
    void handlers_run_after_the_commit_before_the_command_returns_in_aggregate_order() {
        Notifier notifier = new Notifier();
        start(SubscribingProcessor.named("notifier").handlers(notifier));

        node.commandGateway().sendAndWait(new CreateCounter("c-1"));
        for (int i = 1; i <= 5; i++) {
            node.commandGateway().sendAndWait(new Add("c-1", i));
        }

        assertThat(notifier.seen).containsExactly("c-1#1=1", "c-1#2=2", "c-1#3=3", "c-1#4=4", "c-1#5=5");
        assertThat(node.processors().status("notifier").segment(0).state()).isEqualTo(SegmentState.LIVE);
    }

    @Test
    void a_failing_handler_never_fails_the_command_and_its_events_wait_as_dead_letters_in_order() {
        Notifier notifier = new Notifier();
        start(SubscribingProcessor.named("notifier").handlers(notifier).onError(ErrorPolicy.builder().attempts(2)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(1)).then(ErrorPolicy.Action.DEAD_LETTER).build()));
        node.commandGateway().sendAndWait(new CreateCounter("c-1"));
        node.commandGateway().sendAndWait(new CreateCounter("c-2"));

        notifier.failing.set(true);
        long total = node.commandGateway().<Long>sendAndWait(new Add("c-1", 5));
        notifier.failing.set(false);
        node.commandGateway().sendAndWait(new Add("c-1", 6));
        node.commandGateway().sendAndWait(new Add("c-2", 7));

        assertThat(total).as("the command succeeded").isEqualTo(5);
        assertThat(notifier.seen).as("c-1's next event waits behind its dead letter").containsExactly("c-2#1=7");
        assertThat(deadLetters.list("notifier", 0)).extracting(letter -> letter.event().sequence())
                .containsExactly(1L, 2L);
        assertThat(deadLetters.list("notifier", 0).get(0).attempts()).isEqualTo(2);
        assertThat(deadLetters.list("notifier", 0).get(0).cause()).contains("mail server down");

        assertThat(node.processors().retryDeadLetters("notifier").join()).isEqualTo(new DeadLetterRetry(2, 0));
        assertThat(notifier.seen).containsExactly("c-2#1=7", "c-1#1=5", "c-1#2=6");
        node.commandGateway().sendAndWait(new Add("c-1", 8));
        assertThat(notifier.seen).last().isEqualTo("c-1#3=8");
    }

    @Test
    void a_stopped_subscribing_processor_says_where_and_misses_events_until_resumed() {
        Notifier notifier = new Notifier();
        start(SubscribingProcessor.named("notifier").handlers(notifier).onError(ErrorPolicy.builder().attempts(1)
                .build()));
        node.commandGateway().sendAndWait(new CreateCounter("c-1"));

        notifier.failing.set(true);
        node.commandGateway().sendAndWait(new Add("c-1", 1));
        notifier.failing.set(false);
        node.commandGateway().sendAndWait(new Add("c-1", 2));

        SegmentStatus stopped = node.processors().status("notifier").segment(0);
        assertThat(stopped.state()).isEqualTo(SegmentState.STOPPED);
        assertThat(stopped.failure().stream()).isEqualTo(StreamId.of("Counter", "c-1"));
        assertThat(stopped.failure().sequence()).isEqualTo(1);
        assertThat(stopped.failure().cause()).contains("mail server down");
        assertThat(notifier.seen).isEmpty();

        node.processors().resume("notifier");
        node.commandGateway().sendAndWait(new Add("c-1", 3));
        assertThat(notifier.seen).containsExactly("c-1#3=3");
    }

    @Test
    void an_append_on_the_node_wakes_its_tracking_processors_without_waiting_for_their_poll() {
        Notifier notifier = new Notifier();
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class)
                .processor(TrackingProcessor.named("tracker").handlers(notifier).pollInterval(Duration.ofHours(1)))
                .start();
        Eventually.await(TIMEOUT, "the tracker is live", () -> node.processors().status("tracker").caughtUp());

        node.commandGateway().sendAndWait(new CreateCounter("c-1"));
        node.commandGateway().sendAndWait(new Add("c-1", 4));

        Eventually.await(TIMEOUT, "delivered long before the hour-long poll", () -> notifier.seen.size() == 1);
        assertThat(notifier.seen).containsExactly("c-1#1=4 WITH TOKEN");
    }
}
