package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LocalCommandBusTest {

    record Job(@TargetAggregateId String key, int value) {
    }

    record Other(@TargetAggregateId String key) {
    }

    private final LocalCommandBus bus = LocalCommandBus.builder().workers(4).maxPendingCommands(3)
            .shutdownTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void close() {
        bus.close();
    }

    @Test
    void commands_for_different_aggregates_run_in_parallel() throws Exception {
        CountDownLatch bothRunning = new CountDownLatch(2);
        bus.subscribe(Job.class, command -> {
            bothRunning.countDown();
            // Only returns if the other aggregate's command runs at the same time.
            return bothRunning.await(10, TimeUnit.SECONDS);
        });
        CompletableFuture<Object> first = bus.dispatch(CommandMessage.of(new Job("a", 1)));
        CompletableFuture<Object> second = bus.dispatch(CommandMessage.of(new Job("b", 2)));
        assertThat(first.get(15, TimeUnit.SECONDS)).isEqualTo(true);
        assertThat(second.get(15, TimeUnit.SECONDS)).isEqualTo(true);
    }

    @Test
    void commands_for_one_aggregate_wait_for_the_one_running() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> ran = new ArrayList<>();
        bus.subscribe(Job.class, command -> {
            Job job = (Job) command.payload();
            if (job.value() == 1) {
                release.await(10, TimeUnit.SECONDS);
            }
            synchronized (ran) {
                ran.add(job.value());
            }
            return job.value();
        });
        CompletableFuture<Object> first = bus.dispatch(CommandMessage.of(new Job("a", 1)));
        CompletableFuture<Object> second = bus.dispatch(CommandMessage.of(new Job("a", 2)));
        Thread.sleep(100);
        assertThat(second).as("the second command waits behind the first").isNotDone();
        release.countDown();
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(ran).containsExactly(1, 2);
    }

    @Test
    void beyond_max_pending_commands_a_command_is_refused_at_once_with_a_transient_error() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        bus.subscribe(Job.class, command -> release.await(10, TimeUnit.SECONDS));
        List<CompletableFuture<Object>> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            accepted.add(bus.dispatch(CommandMessage.of(new Job("k" + i, i))));
        }
        CompletableFuture<Object> refused = bus.dispatch(CommandMessage.of(new Job("k9", 9)));
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::get).cause().isInstanceOf(CommandBusOverloadedException.class)
                .hasMessageContaining("3 commands are pending (maxPendingCommands)");
        assertThat(io.gyre.GyreTransientException.isCauseOf(refused.handle((v, e) -> e).get())).isTrue();
        release.countDown();
        for (CompletableFuture<Object> future : accepted) {
            assertThat(future.get(10, TimeUnit.SECONDS)).isEqualTo(true);
        }
        assertThat(bus.pendingCommands()).isZero();
        assertThat(bus.dispatch(CommandMessage.of(new Job("k9", 9))).get(10, TimeUnit.SECONDS)).isEqualTo(true);
    }

    @Test
    void a_command_nobody_handles_fails_naming_its_type_and_the_handled_ones() {
        bus.subscribe(Job.class, command -> null);
        CompletableFuture<Object> result = bus.dispatch(CommandMessage.of(new Other("x")));
        assertThatThrownBy(result::get).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(NoHandlerForCommandException.class)
                .hasMessageContaining(Other.class.getName())
                .hasMessageContaining("[Job]");
    }

    @Test
    void a_second_handler_for_one_type_is_refused() {
        bus.subscribe(Job.class, command -> null);
        assertThatThrownBy(() -> bus.subscribe(Job.class, command -> null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Job.class.getName());
    }

    @Test
    void close_finishes_accepted_commands_then_refuses_new_ones_with_a_transient_error() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        bus.subscribe(Job.class, command -> {
            running.countDown();
            Thread.sleep(200);
            return "finished";
        });
        CompletableFuture<Object> accepted = bus.dispatch(CommandMessage.of(new Job("a", 1)));
        running.await(10, TimeUnit.SECONDS);
        bus.close();
        assertThat(accepted).isCompletedWithValue("finished");
        CompletableFuture<Object> late = bus.dispatch(CommandMessage.of(new Job("a", 2)));
        assertThatThrownBy(late::get).cause().isInstanceOf(CommandBusClosedException.class);
    }

    @Test
    void builder_refuses_bad_values_naming_them() {
        assertThatThrownBy(() -> LocalCommandBus.builder().maxPendingCommands(0))
                .hasMessage("maxPendingCommands must be between 1 and 10000000, but was 0");
        assertThatThrownBy(() -> LocalCommandBus.builder().workers(2000))
                .hasMessage("workers must be between 1 and 1024, but was 2000");
        assertThatThrownBy(() -> LocalCommandBus.builder().shutdownTimeout(Duration.ofSeconds(-1)))
                .hasMessageContaining("shutdownTimeout must not be negative");
    }
}
