package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A command that waited behind a slow one past its deadline did not run. Under a generated id that is "not
 * executed": nothing of it is stored, send it again under any id. Under an id the caller chose, an earlier send
 * under that id may be stored (the send whose outcome was unknown, a client's first request under its idempotency
 * key), so the answer is "outcome unknown", which sends the caller back to the same id; the re-send then runs once.
 */
class CallerChosenIdNotRunTest {

    @Test
    void a_caller_chosen_id_that_did_not_run_is_answered_outcome_unknown_and_a_generated_one_not_executed()
            throws Exception {
        InMemoryEventStore events = new InMemoryEventStore();
        AtomicBoolean slow = new AtomicBoolean();
        CountDownLatch release = new CountDownLatch(1);
        ForwardingEventStore store = new ForwardingEventStore(events) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                if (!slow.getAndSet(false)) {
                    return super.appendAsync(request);
                }
                // The first append after the switch waits, holding the counter's turn.
                return CompletableFuture.runAsync(() -> {
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }).thenCompose(ignored -> super.appendAsync(request));
            }
        };
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        try {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            slow.set(true);
            CompletableFuture<Object> holding = node.commandGateway().send(new Add("c", 1));

            Throwable chosen = failureOf(node.commandGateway().send(CommandMessage.of(new Add("c", 10))
                    .withCommandId("key-10"), Duration.ofMillis(200)));
            Throwable generated = failureOf(node.commandGateway().send(CommandMessage.of(new Add("c", 100)),
                    Duration.ofMillis(200)));

            assertThat(chosen).as("under the caller's id 'key-10'").isInstanceOf(CommandOutcomeUnknownException.class)
                    .hasCauseInstanceOf(CommandNotExecutedException.class)
                    .hasMessageContaining("key-10");
            assertThat(((CommandOutcomeUnknownException) chosen).commandId()).isEqualTo("key-10");
            assertThat(generated).as("under a generated id").isInstanceOf(CommandNotExecutedException.class);

            release.countDown();
            holding.get(10, TimeUnit.SECONDS);
            // As the answer says: send it again under the same id; it runs once.
            node.commandGateway().sendAndWait(CommandMessage.of(new Add("c", 10)).withCommandId("key-10"),
                    Duration.ofSeconds(10));
            node.commandGateway().sendAndWait(CommandMessage.of(new Add("c", 10)).withCommandId("key-10"),
                    Duration.ofSeconds(10));
            List<String> stored;
            try (Stream<StoredEvent> stream = events.readStream(StreamId.of("Counter", "c"))) {
                stored = stream.map(StoredEvent::commandId).toList();
            }
            assertThat(stored).as("created, the held Add, key-10 once; the unrun generated Add never")
                    .hasSize(3).containsOnlyOnce("key-10");
        } finally {
            release.countDown();
            node.close();
        }
    }

    private static Throwable failureOf(CompletableFuture<Object> sent) throws Exception {
        try {
            Object value = sent.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the command ran: " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }
}
