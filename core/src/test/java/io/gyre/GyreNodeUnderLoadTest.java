package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.CommandTimeoutException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Bursts, conflicts and deadlines through a real node: callers wait instead of failing, and order holds. */
class GyreNodeUnderLoadTest {

    @Test
    void a_burst_far_beyond_the_capacity_succeeds_and_keeps_each_aggregates_send_order() {
        InMemoryEventStore store = new InMemoryEventStore();
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(4)
                .maxPendingCommands(10).maxPendingPerAggregate(2).start()) {
            for (int a = 0; a < 5; a++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + a));
            }
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            for (long i = 1; i <= 20_000; i++) {
                sent.add(node.commandGateway().send(new Add("c" + (i % 5), i)));
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
            for (int a = 0; a < 5; a++) {
                int counter = a;
                assertThat(amounts(node, store, "c" + a)).as("c" + a).containsExactlyElementsOf(
                        LongStream.rangeClosed(1, 20_000).filter(i -> i % 5 == counter).boxed().toList());
            }
        }
    }

    @Test
    void conflicts_on_every_other_append_are_retried_in_place_and_the_order_stays_exact() {
        InMemoryEventStore events = new InMemoryEventStore();
        AtomicInteger appends = new AtomicInteger();
        ForwardingEventStore conflicting = new ForwardingEventStore(events) {
            @Override
            public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
                return appendOnCallingThread(request); // the fault below blocks or fails the caller
            }

            @Override
            public AppendResult append(AppendRequest request) {
                if (!request.events().isEmpty() && request.expected().lastSequence() >= 0
                        && appends.incrementAndGet() % 2 == 0) {
                    // As if another node had just written: nothing is stored, the writer must reload.
                    throw new ConcurrencyConflictException(request.stream(), request.expected().lastSequence(),
                            ConcurrencyConflictException.UNKNOWN);
                }
                return super.append(request);
            }
        };
        try (Gyre node = Gyre.builder().sharedEventStore(conflicting).aggregate(Counter.class)
                .maxPendingCommands(8).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            for (long i = 1; i <= 500; i++) {
                sent.add(node.commandGateway().send(new Add("c", i)));
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
            assertThat(appends.get()).as("every other append was refused").isGreaterThanOrEqualTo(999);
            assertThat(amounts(node, events, "c")).containsExactlyElementsOf(
                    LongStream.rangeClosed(1, 500).boxed().toList());
            List<StoredEvent> stream = events.readStream(StreamId.of("Counter", "c")).toList();
            for (int i = 0; i < stream.size(); i++) {
                assertThat(stream.get(i).sequence()).isEqualTo(i);
            }
        }
    }

    @Test
    void commands_whose_deadline_passes_behind_a_slow_one_are_either_not_executed_or_resolved_by_a_resend() {
        InMemoryEventStore events = new InMemoryEventStore();
        CountDownLatch slowAppendStarted = new CountDownLatch(1);
        AtomicInteger slowAppends = new AtomicInteger();
        ForwardingEventStore slow = new ForwardingEventStore(events) {
            @Override
            public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
                return appendOnCallingThread(request); // the fault below blocks or fails the caller
            }

            @Override
            public AppendResult append(AppendRequest request) {
                if (!request.events().isEmpty() && request.expected().lastSequence() == 0
                        && slowAppends.incrementAndGet() == 1) {
                    slowAppendStarted.countDown();
                    sleep(400);
                }
                if (!request.events().isEmpty() && request.expected().lastSequence() > 0) {
                    sleep(3); // every command takes a while, so some are caught running by their deadline
                }
                return super.append(request);
            }
        };
        try (Gyre node = Gyre.builder().sharedEventStore(slow).aggregate(Counter.class).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            CompletableFuture<Object> first = node.commandGateway().send(new Add("c", 1_000_000));
            await(slowAppendStarted);
            Map<Long, CommandMessage> sent = new HashMap<>();
            List<CompletableFuture<Object>> outcomes = new ArrayList<>();
            for (long i = 1; i <= 150; i++) {
                CommandMessage message = CommandMessage.of(new Add("c", i));
                sent.put(i, message);
                outcomes.add(node.commandGateway().send(message, Duration.ofMillis(200 + 2 * i)));
            }
            first.join();
            int notExecuted = 0;
            int unknown = 0;
            int succeeded = 0;
            List<Long> resent = new ArrayList<>();
            for (long i = 1; i <= 150; i++) {
                Throwable failure = failureOf(outcomes.get((int) i - 1));
                if (failure == null) {
                    succeeded++;
                } else if (failure instanceof CommandNotExecutedException) {
                    notExecuted++;
                    assertThat(amounts(node, events, "c")).as("not executed, yet stored: " + i).doesNotContain(i);
                } else {
                    assertThat(failure).isInstanceOf(CommandOutcomeUnknownException.class);
                    unknown++;
                    CommandTimeoutException timeout = (CommandTimeoutException) failure;
                    assertThat(timeout.commandId()).isEqualTo(sent.get(i).commandId());
                    // Re-sent under its id, the command is answered from the store or runs once.
                    node.commandGateway().sendAndWait(sent.get(i).withCommandId(timeout.commandId()),
                            Duration.ofSeconds(10));
                    resent.add(i);
                }
            }
            assertThat(notExecuted).as("commands dropped unrun at their deadline").isPositive();
            List<Long> stored = amounts(node, events, "c");
            assertThat(stored).as("no command stored twice").doesNotHaveDuplicates();
            assertThat(stored).containsAll(resent);
            assertThat(succeeded + notExecuted + unknown).isEqualTo(150);
        }
    }

    private static Throwable failureOf(CompletableFuture<Object> outcome) {
        try {
            outcome.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    private static List<Long> amounts(Gyre node, InMemoryEventStore store, String id) {
        List<Long> amounts = new ArrayList<>();
        store.readStream(StreamId.of("Counter", id)).forEach(event -> {
            Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
            if (payload instanceof Added added) {
                amounts.add(added.amount());
            }
        });
        return amounts;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
