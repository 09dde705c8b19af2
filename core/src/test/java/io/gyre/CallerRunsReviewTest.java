package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStore;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of caller-runs (a caller waiting in {@code sendAndWait} decides its own command on an idle
 * aggregate on its own thread): the caller must decide its own command and nothing else, so that it is back to its
 * caller as soon as its own command is decided.
 */
class CallerRunsReviewTest {

    private static final long TIMEOUT_SECONDS = 30;

    @BeforeEach
    void resetProbe() {
        Probe.reset();
    }

    @AfterEach
    void stop() {
        Probe.reset();
    }

    @Test
    void a_waiting_caller_runs_only_its_own_command_not_the_ones_other_senders_queued_behind_it() throws Exception {
        Map<Long, String> handlerThreads = new ConcurrentHashMap<>();
        List<CompletableFuture<Long>> others = new ArrayList<>();
        try (Gyre node = Gyre.builder().name("caller-runs").sharedEventStore(new InMemoryEventStore())
                .aggregate(Counter.class).workers(2).start()) {
            // A worker decides the creation (it reads the store first); the counter's queue ends before the creation
            // is answered, so the next command finds the counter cached and idle.
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            Probe.onHandle(message -> {
                long amount = ((Add) message.payload()).amount();
                handlerThreads.put(amount, Thread.currentThread().getName());
                if (amount == 1) {
                    // While the caller decides its own command, another sender queues three behind it.
                    Thread sender = new Thread(() -> {
                        for (long other = 100; other < 103; other++) {
                            others.add(node.commandGateway().send(new Add("c", other)));
                        }
                    });
                    sender.start();
                    join(sender);
                } else {
                    sleep(300); // each of the others takes a while
                }
            });

            long total = node.commandGateway().sendAndWait(new Add("c", 1), Duration.ofSeconds(TIMEOUT_SECONDS));
            for (CompletableFuture<Long> other : others) {
                other.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }

            assertThat(total).isEqualTo(1);
            assertThat(handlerThreads.get(1L)).as("the caller decided its own command")
                    .isEqualTo(Thread.currentThread().getName());
            assertThat(handlerThreads).as("the other sender's commands ran on the workers, not on the waiting caller")
                    .allSatisfy((amount, thread) -> {
                        if (amount != 1L) {
                            assertThat(thread).startsWith("caller-runs-command-");
                        }
                    });
        }
    }

    /**
     * An aggregate's turn ends before its command is answered, so a caller that sends each command as soon as the one
     * before is answered finds the aggregate idle every time, also right after a creation that a worker decided and
     * the store's own thread stored.
     */
    @Test
    void a_closed_loop_caller_decides_every_command_of_its_cached_aggregate_on_its_own_thread() throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "store-writer"));
        EventStore store = new ForwardingEventStore(new InMemoryEventStore()) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                return CompletableFuture.supplyAsync(() -> append(request), writer);
            }
        };
        List<String> deciders = new CopyOnWriteArrayList<>();
        try (Gyre node = Gyre.builder().name("closed-loop").sharedEventStore(store).aggregate(Counter.class)
                .workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("e"));
            Probe.onHandle(message -> deciders.add(Thread.currentThread().getName()));
            for (int i = 0; i < 200; i++) {
                node.commandGateway().sendAndWait(new Add("e", 1), Duration.ofSeconds(TIMEOUT_SECONDS));
            }
        } finally {
            writer.shutdownNow();
        }

        assertThat(deciders).hasSize(200).as("each decided by its waiting caller, none by a worker")
                .containsOnly(Thread.currentThread().getName());
    }

    /**
     * Review finding on caller-runs (8239735): the caller loaded an uncached aggregate on its own thread, so a store
     * that blocked (a pool's timeout: 30 s with HikariCP's default) held {@code sendAndWait(500 ms)} until the store
     * answered. A waiting caller now decides only a command whose aggregate is cached; a load goes to a worker, and
     * the deadline answers the caller on time.
     */
    @Test
    void a_caller_whose_aggregate_must_be_loaded_is_answered_at_its_deadline_while_the_store_blocks()
            throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blockReads = new AtomicBoolean();
        AtomicReference<String> loadingThread = new AtomicReference<>();
        InMemoryEventStore events = new InMemoryEventStore();
        EventStore store = new ForwardingEventStore(events) {
            @Override
            public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
                if (blockReads.get()) {
                    loadingThread.set(Thread.currentThread().getName());
                    await(release);
                }
                return super.readStream(stream, fromSequence);
            }
        };
        try (Gyre first = Gyre.builder().name("caller-load-1").sharedEventStore(store).aggregate(Counter.class)
                .start()) {
            first.commandGateway().sendAndWait(new CreateCounter("d"));
        }
        try (Gyre node = Gyre.builder().name("caller-load").sharedEventStore(store).aggregate(Counter.class)
                .workers(2).start()) {
            blockReads.set(true);
            Throwable thrown;
            try {
                thrown = catchThrowable(() -> node.commandGateway().sendAndWait(new Add("d", 1),
                        Duration.ofMillis(500)));
            } finally {
                release.countDown();
            }

            assertThat(thrown).isInstanceOf(CommandOutcomeUnknownException.class);
            assertThat(loadingThread.get()).as("the uncached aggregate was loaded by a worker, not by the caller")
                    .startsWith("caller-load-command-");
        }
    }

    /**
     * What the README and {@code sendAndWait} document: a handler is not interrupted, so a caller that decides its
     * own command (on a cached aggregate) sees its deadline's answer only once the handler returns. Handlers decide
     * on the aggregate's state in memory; one that blocks holds its caller, as it would hold a worker.
     */
    @Test
    void a_handler_slower_than_the_deadline_holds_the_caller_that_runs_it_and_is_answered_outcome_unknown()
            throws Exception {
        try (Gyre node = Gyre.builder().name("caller-deadline").sharedEventStore(new InMemoryEventStore())
                .aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("d"));
            AtomicReference<String> handlerThread = new AtomicReference<>();
            Probe.onHandle(message -> {
                handlerThread.set(Thread.currentThread().getName());
                sleep(1_500); // a handler slower than the caller's deadline
            });

            Throwable thrown = catchThrowable(() -> node.commandGateway().sendAndWait(new Add("d", 1),
                    Duration.ofMillis(300)));

            assertThat(handlerThread.get()).isEqualTo(Thread.currentThread().getName());
            assertThat(thrown).isInstanceOf(CommandOutcomeUnknownException.class);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
