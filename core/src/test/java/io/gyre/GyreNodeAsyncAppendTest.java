package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.CommandMessage;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Commands whose events the store writes later ({@code appendAsync}): the worker that decided is free meanwhile,
 * while the aggregate's next command waits for the append. The store here completes appends on a thread of its own,
 * as the JDBC store's writers do.
 */
class GyreNodeAsyncAppendTest {

    private static final long TIMEOUT_SECONDS = 30;
    private static final String WRITER = "test-store-writer";

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final HeldAppends store = new HeldAppends(events);

    @BeforeEach
    void resetProbe() {
        Probe.reset();
    }

    @AfterEach
    void stop() {
        Probe.reset();
        store.writer.shutdownNow();
    }

    @Test
    void while_one_aggregate_waits_for_its_append_the_only_worker_runs_another_and_the_next_command_waits()
            throws Exception {
        Map<String, String> handlerThreads = new ConcurrentHashMap<>();
        Probe.onHandle(message -> handlerThreads.put(message.commandId(), Thread.currentThread().getName()));
        try (Gyre node = Gyre.builder().name("async").sharedEventStore(store).aggregate(Counter.class).workers(1)
                .start()) {
            node.commandGateway().sendAndWait(new CreateCounter("a"));
            node.commandGateway().sendAndWait(new CreateCounter("b"));
            store.hold(request -> request.aggregateId().equals("a") && !request.events().isEmpty());

            CompletableFuture<Long> firstOfA = node.commandGateway().send(new Add("a", 1));
            Held held = store.nextHeld();
            CompletableFuture<Long> secondOfA = node.commandGateway().send(new Add("a", 2));
            long ofB = node.commandGateway().<Long>send(new Add("b", 5)).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

            assertThat(ofB).as("b ran on the only worker while a's append was held").isEqualTo(5);
            assertThat(firstOfA).isNotDone();
            assertThat(secondOfA).as("a's next command waits for its append").isNotDone();
            assertThat(Probe.commandIds()).as("a's second command not run yet").hasSize(4);

            store.hold(request -> false);
            store.write(held);

            assertThat(firstOfA.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(secondOfA.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("decided on the stored state")
                    .isEqualTo(3);
            // sendAndWait's caller decides its own command (it would only wait); what send() sent ran on the worker.
            String caller = Thread.currentThread().getName();
            assertThat(handlerThreads.values()).as("on the worker or the waiting caller, never on the store's writer")
                    .allSatisfy(thread -> assertThat(thread.startsWith("async-command-") || thread.equals(caller))
                            .as(thread).isTrue());
            assertThat(numbers("a")).containsExactly(1L, 2L);
            assertThat(Probe.overlaps()).isZero();
        }
    }

    @Test
    void a_caller_waiting_for_a_command_of_an_idle_aggregate_decides_it_itself_and_one_queued_behind_runs_on_a_worker()
            throws Exception {
        Map<String, String> handlerThreads = new ConcurrentHashMap<>();
        Probe.onHandle(message -> handlerThreads.put(message.commandId(), Thread.currentThread().getName()));
        try (Gyre node = Gyre.builder().name("callers").sharedEventStore(store).aggregate(Counter.class).workers(1)
                .start()) {
            CommandMessage create = CommandMessage.of(new CreateCounter("a"));
            node.commandGateway().sendAndWait(create, Duration.ofSeconds(TIMEOUT_SECONDS));
            assertThat(handlerThreads.get(create.commandId()))
                    .as("a creation reads the store first, so a worker decides it: the caller stays free to be "
                            + "answered at its deadline")
                    .startsWith("callers-command-");
            // The aggregate's queue ended before the creation was answered: the next command finds it idle.
            int cachedCommands = 1;
            CommandMessage cached = CommandMessage.of(new Add("a", 0));
            node.commandGateway().sendAndWait(cached, Duration.ofSeconds(TIMEOUT_SECONDS));
            assertThat(handlerThreads.get(cached.commandId()))
                    .as("on an idle cached aggregate, decided by the caller, which would only wait")
                    .isEqualTo(Thread.currentThread().getName());

            store.hold(request -> !request.events().isEmpty());
            CompletableFuture<Long> first = node.commandGateway().send(new Add("a", 1));
            Held held = store.nextHeld();
            CommandMessage second = CommandMessage.of(new Add("a", 2));
            CompletableFuture<Long> waited = CompletableFuture.supplyAsync(
                    () -> node.commandGateway().sendAndWait(second, Duration.ofSeconds(TIMEOUT_SECONDS)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            while (node.localCommandBus().pendingCommands() < 2 && System.nanoTime() - deadline < 0) {
                Thread.sleep(1);
            }
            assertThat(node.localCommandBus().pendingCommands()).as("the second command dispatched").isEqualTo(2);
            assertThat(Probe.commandIds()).as("the second waits for the first's append").hasSize(2 + cachedCommands);

            store.hold(request -> false);
            store.write(held);

            assertThat(first.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(waited.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("decided on the stored state").isEqualTo(3);
            assertThat(handlerThreads.get(second.commandId())).as("queued behind the first, so run by the worker")
                    .startsWith("callers-command-");
            assertThat(numbers("a")).filteredOn(amount -> amount != 0).containsExactly(1L, 2L);
            assertThat(numbers("a")).hasSize(cachedCommands + 2);
            assertThat(Probe.overlaps()).isZero();
        }
    }

    @Test
    void conflicts_reported_by_the_store_later_are_decided_again_on_a_worker_and_the_order_stays_exact()
            throws Exception {
        AtomicInteger appends = new AtomicInteger();
        AtomicInteger conflicts = new AtomicInteger();
        Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
        Probe.onHandle(message -> handlerThreads.add(Thread.currentThread().getName()));
        store.onWriter(request -> {
            if (request.expected().lastSequence() >= 0 && appends.incrementAndGet() % 2 == 0) {
                conflicts.incrementAndGet();
                throw new ConcurrencyConflictException(request.stream(), request.expected().lastSequence(),
                        ConcurrencyConflictException.UNKNOWN);
            }
            return events.append(request);
        });
        try (Gyre node = Gyre.builder().name("conflicts").sharedEventStore(store).aggregate(Counter.class)
                .workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            List<CompletableFuture<Long>> sent = new ArrayList<>();
            for (long i = 1; i <= 200; i++) {
                sent.add(node.commandGateway().send(new Add("c", i)));
            }
            long total = 0;
            for (int i = 0; i < sent.size(); i++) {
                total += i + 1;
                assertThat(sent.get(i).get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(total);
            }
        }
        assertThat(conflicts.get()).isGreaterThanOrEqualTo(100);
        assertThat(numbers("c")).containsExactlyElementsOf(Stream.iterate(1L, n -> n + 1).limit(200).toList());
        String caller = Thread.currentThread().getName();
        assertThat(handlerThreads).as("tries after a conflict run on a worker, never on the store's writer")
                .anySatisfy(thread -> assertThat(thread).startsWith("conflicts-command-"))
                .allSatisfy(thread -> assertThat(thread.startsWith("conflicts-command-") || thread.equals(caller))
                        .as(thread).isTrue());
    }

    @Test
    void a_failed_append_fails_only_its_own_command_and_its_aggregate_is_loaded_again() throws Exception {
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(1).start()) {
            for (String id : List.of("a", "b", "c")) {
                node.commandGateway().sendAndWait(new CreateCounter(id));
                node.commandGateway().sendAndWait(new Add(id, 10));
            }
            store.hold(request -> !request.events().isEmpty());
            Map<String, CompletableFuture<Long>> sent = new HashMap<>();
            Map<String, Held> held = new HashMap<>();
            for (String id : List.of("a", "b", "c")) {
                sent.put(id, node.commandGateway().send(new Add(id, 1)));
                Held each = store.nextHeld();
                held.put(each.request().aggregateId(), each);
            }
            store.hold(request -> false);

            store.fail(held.get("b"), new EventRejectedException("refused by the test", null));
            store.write(held.get("a"));
            store.write(held.get("c"));

            assertThat(sent.get("a").get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(11);
            assertThat(sent.get("c").get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(11);
            assertThatThrownBy(() -> sent.get("b").get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).cause()
                    .isInstanceOf(EventRejectedException.class).hasMessageContaining("refused by the test");
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("b", 2))).as("b reloaded without the refused 1")
                    .isEqualTo(12);
        }
        assertThat(numbers("b")).containsExactly(10L, 2L);
    }

    @Test
    void a_command_whose_deadline_passes_while_its_append_is_held_has_an_unknown_outcome() throws Exception {
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("a"));
            store.hold(request -> !request.events().isEmpty());

            CompletableFuture<Long> late = node.commandGateway().send(new Add("a", 1), Metadata.empty(),
                    Duration.ofMillis(200));
            Held held = store.nextHeld();

            assertThatThrownBy(() -> late.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(CommandOutcomeUnknownException.class,
                            unknown -> assertThat(unknown.commandId()).isEqualTo(held.request().commandId()));
            store.hold(request -> false);
            store.write(held);
            // The append completes after its caller gave up; the aggregate goes on from what was stored.
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("a", 2))).isEqualTo(3);
        }
        assertThat(numbers("a")).containsExactly(1L, 2L);
    }

    private List<Long> numbers(String counter) {
        try (Stream<StoredEvent> stored = events.readStream(new StreamId("Counter", counter), 1)) {
            return stored.map(event -> Long.parseLong(event.payload().replaceAll(".*\"amount\":(\\d+).*", "$1")))
                    .toList();
        }
    }

    /** An append the store holds until the test writes or fails it. */
    record Held(AppendRequest request, CompletableFuture<AppendResult> future) {
    }

    /**
     * A store that writes on a thread of its own, like the JDBC store, and holds the appends the test picks until the
     * test lets them through.
     */
    static final class HeldAppends extends ForwardingEventStore {

        final ExecutorService writer = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, WRITER);
            thread.setDaemon(true);
            return thread;
        });
        private final BlockingQueue<Held> held = new LinkedBlockingQueue<>();
        private volatile Predicate<AppendRequest> toHold = request -> false;
        private volatile java.util.function.Function<AppendRequest, AppendResult> write;

        HeldAppends(InMemoryEventStore delegate) {
            super(delegate);
            this.write = delegate::append;
        }

        void hold(Predicate<AppendRequest> which) {
            toHold = which;
        }

        void onWriter(java.util.function.Function<AppendRequest, AppendResult> write) {
            this.write = write;
        }

        Held nextHeld() throws InterruptedException {
            Held next = held.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(next).as("an append held").isNotNull();
            return next;
        }

        void write(Held append) {
            writer.execute(() -> complete(append.request(), append.future()));
        }

        void fail(Held append, RuntimeException failure) {
            writer.execute(() -> append.future().completeExceptionally(failure));
        }

        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            CompletableFuture<AppendResult> future = new CompletableFuture<>();
            if (toHold.test(request)) {
                held.add(new Held(request, future));
            } else {
                writer.execute(() -> complete(request, future));
            }
            return future;
        }

        private void complete(AppendRequest request, CompletableFuture<AppendResult> future) {
            try {
                future.complete(write.apply(request));
            } catch (RuntimeException e) {
                future.completeExceptionally(e);
            }
        }
    }
}
