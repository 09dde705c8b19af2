package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Handlers that finish later than they return ({@link CommandHandlerFunction#handleAsync}): the aggregate's turn,
 * the command's capacity and the bus's close all wait for the stage, while the worker does not.
 */
class LocalCommandBusAsyncTest {

    private static final long TIMEOUT_SECONDS = 30;

    record Job(@TargetAggregateId String key, int value) {
    }

    private final LocalCommandBus bus = LocalCommandBus.builder().workers(1).maxPendingCommands(3)
            .threadNamePrefix("bus-worker-").shutdownTimeout(Duration.ofSeconds(TIMEOUT_SECONDS)).build();
    private final Stages stages = new Stages();

    @AfterEach
    void close() {
        stages.completeAll();
        bus.close();
    }

    private static CommandMessage job(String key, int value) {
        return CommandMessage.of(new Job(key, value)).withDeadline(Deadline.after(Duration.ofSeconds(30)));
    }

    @Test
    void an_aggregate_s_next_command_starts_on_a_worker_once_the_stage_completes_on_another_thread()
            throws Exception {
        bus.subscribe(Job.class, "Job", stages);
        CommandDispatch first = bus.dispatch(job("a", 1));
        Started started = stages.next();
        CommandDispatch second = bus.dispatch(job("a", 2));
        CommandDispatch other = bus.dispatch(job("b", 3));
        Started ofOther = stages.next();

        assertThat(ofOther.value()).as("the only worker ran another aggregate meanwhile").isEqualTo(3);
        assertThat(second).isNotDone();
        assertThat(stages.queued()).as("a's second command has not started").isZero();

        Thread writer = new Thread(() -> started.stage().complete("one"), "store-writer");
        writer.start();
        writer.join();
        Started ofSecond = stages.next();

        assertThat(first.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("one");
        assertThat(ofSecond.value()).isEqualTo(2);
        assertThat(ofSecond.thread()).startsWith("bus-worker-");
        ofSecond.stage().complete("two");
        ofOther.stage().complete("three");
        assertThat(second.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("two");
        assertThat(other.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("three");
    }

    @Test
    void a_command_waiting_for_its_stage_holds_its_capacity_until_the_stage_completes() throws Exception {
        bus.subscribe(Job.class, "Job", stages);
        CommandDispatch first = bus.dispatch(job("a", 1));
        CommandDispatch second = bus.dispatch(job("b", 2));
        CommandDispatch third = bus.dispatch(job("c", 3));
        Started ofFirst = stages.next();
        stages.next();
        stages.next();
        CommandDispatch fourth = bus.dispatch(job("d", 4));

        assertThat(bus.waitingCommands()).as("three admitted, all waiting for their stage").isEqualTo(1);
        ofFirst.stage().completeExceptionally(new IllegalStateException("store failed"));

        Started ofFourth = stages.next();
        assertThat(ofFourth.value()).isEqualTo(4);
        assertThat(first).isCompletedExceptionally();
        assertThat(List.of(second, third, fourth)).noneMatch(CompletableFuture::isDone);
    }

    @Test
    void close_waits_for_commands_whose_stage_has_not_completed() throws Exception {
        bus.subscribe(Job.class, "Job", stages);
        CommandDispatch dispatch = bus.dispatch(job("a", 1));
        Started started = stages.next();

        Thread closing = new Thread(bus::close, "closing");
        closing.start();
        awaitCondition(() -> closing.getState() == Thread.State.TIMED_WAITING, "close to wait");
        assertThat(dispatch).isNotDone();
        started.stage().complete("done");
        closing.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));

        assertThat(closing.isAlive()).isFalse();
        assertThat(dispatch.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(bus.pendingCommands()).isZero();
    }

    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Gave up waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    /** A handler started on a worker, whose stage the test completes. */
    record Started(int value, String thread, CompletableFuture<@Nullable Object> stage) {
    }

    /** A handler whose every command returns a stage that the test completes. */
    static final class Stages implements CommandHandlerFunction {

        private final BlockingQueue<Started> started = new LinkedBlockingQueue<>();
        private final Map<Integer, Started> all = new ConcurrentHashMap<>();

        @Override
        public @Nullable Object handle(CommandMessage command) {
            throw new AssertionError("the bus calls handleAsync");
        }

        @Override
        public CompletionStage<@Nullable Object> handleAsync(CommandMessage command, Executor workers) {
            int value = ((Job) command.payload()).value();
            Started each = new Started(value, Thread.currentThread().getName(), new CompletableFuture<>());
            all.put(value, each);
            started.add(each);
            return each.stage();
        }

        Started next() throws InterruptedException {
            Started next = started.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(next).as("a command started").isNotNull();
            return next;
        }

        int queued() {
            return started.size();
        }

        void completeAll() {
            List.copyOf(all.values()).forEach(each -> each.stage().complete(null));
        }
    }
}
