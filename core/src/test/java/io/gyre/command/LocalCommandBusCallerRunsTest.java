package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.internal.CallerRuns;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An aggregate's turn ends before its command is answered: a caller that waits for each command before it sends the
 * next (a closed loop, as {@code sendAndWait} is) finds the aggregate idle every time and decides every command on its
 * own thread ({@link CallerRuns}), instead of finding the answered command's queue still there and going through a
 * worker.
 */
class LocalCommandBusCallerRunsTest {

    private static final long TIMEOUT_SECONDS = 30;

    record Job(@TargetAggregateId String key, int value) {
    }

    private final LocalCommandBus bus = LocalCommandBus.builder().workers(2).threadNamePrefix("bus-worker-")
            .shutdownTimeout(Duration.ofSeconds(TIMEOUT_SECONDS)).build();
    /** Completes the handlers' stages, as a store's writer completes appends. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable,
            "store-writer"));

    @AfterEach
    void close() {
        writer.shutdownNow();
        bus.close();
    }

    private static CommandMessage job(String key, int value) {
        return CommandMessage.of(new Job(key, value)).withDeadline(Deadline.after(Duration.ofSeconds(TIMEOUT_SECONDS)));
    }

    /**
     * Each answer is held on the writer's thread, after the caller has been woken, until the caller has dispatched its
     * next command: the caller then always wins the race against the end of the answered command's turn, which must
     * therefore have ended before the answer.
     */
    @Test
    void a_closed_loop_caller_decides_every_command_of_its_aggregate_on_its_own_thread() throws Exception {
        int commands = 50;
        List<String> deciders = new CopyOnWriteArrayList<>();
        AtomicReference<CountDownLatch> nextDispatched = new AtomicReference<>();
        // The writer stores a command only once the caller watches for its answer.
        Semaphore watched = new Semaphore(0);
        bus.subscribe(Job.class, "Job", new AsyncHandler(command -> deciders.add(Thread.currentThread().getName()),
                () -> acquireQuietly(watched)));

        for (int i = 0; i < commands; i++) {
            CommandMessage command = job("a", i);
            CommandDispatch dispatch = CallerRuns.collectWhile(() -> bus.dispatch(command));
            CountDownLatch dispatched = new CountDownLatch(1);
            CountDownLatch previous = nextDispatched.getAndSet(dispatched);
            if (previous != null) {
                previous.countDown();
            }
            // Only the writer completes the dispatch and runs its dependents: the caller waits on its own future
            // (CompletableFuture.get runs pending dependents on the waiting thread too).
            CompletableFuture<Object> answered = new CompletableFuture<>();
            boolean last = i == commands - 1;
            dispatch.whenComplete((value, failure) -> {
                answered.complete(value);
                if (!last) {
                    awaitQuietly(dispatched);
                }
            });
            watched.release();
            assertThat(answered.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(i);
        }

        assertThat(deciders).hasSize(commands)
                .as("every command decided by its waiting caller, none handed to a worker")
                .containsOnly(Thread.currentThread().getName());
    }

    @Test
    void a_command_queued_while_a_turn_ends_runs_after_it_never_beside_it_and_none_is_lost() throws Exception {
        int senders = 3;
        int perSender = 300;
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<List<Integer>> seen = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            seen.add(new ArrayList<>());
        }
        bus.subscribe(Job.class, "Job", new AsyncHandler(command -> {
            if (running.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            int value = ((Job) command.payload()).value();
            synchronized (seen) {
                seen.get(value / perSender).add(value % perSender);
            }
        }, running::decrementAndGet));
        ExecutorService threads = Executors.newFixedThreadPool(senders);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        try {
            for (int s = 0; s < senders; s++) {
                int sender = s;
                done.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < perSender; i++) {
                        int value = sender * perSender + i;
                        if (sender == 0) {
                            // A closed-loop caller, deciding when it finds the aggregate idle.
                            CommandDispatch dispatch = CallerRuns.collectWhile(() -> bus.dispatch(job("a", value)));
                            dispatch.join();
                        } else if (i % 8 == 7) {
                            bus.dispatch(job("a", value)).join(); // sends a burst, then waits for its last
                        } else {
                            bus.dispatch(job("a", value));
                        }
                    }
                }, threads));
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (bus.pendingCommands() > 0 && System.nanoTime() - deadline < 0) {
            Thread.sleep(1);
        }

        assertThat(overlaps).as("commands of one aggregate never ran at once").hasValue(0);
        for (List<Integer> values : seen) {
            assertThat(values).as("every command ran once, in its sender's order")
                    .containsExactlyElementsOf(IntStream.range(0, perSender).boxed().toList());
        }
    }

    /** Decides on the calling thread, then completes on the writer's thread, as an asynchronous append does. */
    private final class AsyncHandler implements CommandHandlerFunction {

        private final Consumer<CommandMessage> decide;
        private final Runnable stored;

        AsyncHandler(Consumer<CommandMessage> decide) {
            this(decide, () -> { });
        }

        AsyncHandler(Consumer<CommandMessage> decide, Runnable stored) {
            this.decide = decide;
            this.stored = stored;
        }

        @Override
        public @Nullable Object handle(CommandMessage command) {
            throw new AssertionError("the bus calls handleAsync");
        }

        @Override
        public CompletionStage<@Nullable Object> handleAsync(CommandMessage command, Executor workers) {
            decide.accept(command);
            return CompletableFuture.supplyAsync(() -> {
                stored.run();
                return ((Job) command.payload()).value();
            }, writer);
        }
    }

    private static void acquireQuietly(Semaphore semaphore) {
        try {
            assertThat(semaphore.tryAcquire(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
