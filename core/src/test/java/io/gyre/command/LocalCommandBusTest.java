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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LocalCommandBusTest {

    record Job(@TargetAggregateId String key, int value) {
    }

    record Other(@TargetAggregateId String key) {
    }

    private final LocalCommandBus bus = LocalCommandBus.builder().workers(4).maxPendingCommands(3)
            .maxPendingPerAggregate(2).shutdownTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void close() {
        bus.close();
    }

    private static CommandMessage job(String key, int value) {
        return CommandMessage.of(new Job(key, value)).withDeadline(Deadline.after(Duration.ofSeconds(30)));
    }

    @Test
    void commands_for_different_aggregates_run_in_parallel() throws Exception {
        CountDownLatch bothRunning = new CountDownLatch(2);
        bus.subscribe(Job.class, "Job", command -> {
            bothRunning.countDown();
            // Only returns if the other aggregate's command runs at the same time.
            return bothRunning.await(10, TimeUnit.SECONDS);
        });
        CompletableFuture<Object> first = bus.dispatch(job("a", 1));
        CompletableFuture<Object> second = bus.dispatch(job("b", 2));
        assertThat(first.get(15, TimeUnit.SECONDS)).isEqualTo(true);
        assertThat(second.get(15, TimeUnit.SECONDS)).isEqualTo(true);
    }

    @Test
    void commands_for_one_aggregate_run_one_at_a_time_in_dispatch_order() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicBoolean overlapped = new AtomicBoolean();
        List<Integer> ran = new ArrayList<>();
        bus.subscribe(Job.class, "Job", command -> {
            if (running.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            Thread.sleep(1);
            synchronized (ran) {
                ran.add(((Job) command.payload()).value());
            }
            running.decrementAndGet();
            return null;
        });
        List<CompletableFuture<Object>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(bus.dispatch(job("a", i)));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(overlapped).as("two commands of one aggregate overlapped").isFalse();
        assertThat(ran).isEqualTo(java.util.stream.IntStream.range(0, 50).boxed().toList());
    }

    @Test
    void beyond_its_capacity_the_bus_makes_commands_wait_in_order_and_refuses_none() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = new ArrayList<>();
        bus.subscribe(Job.class, "Job", command -> {
            release.await(10, TimeUnit.SECONDS);
            Job job = (Job) command.payload();
            synchronized (ran) {
                ran.add(job.key() + job.value());
            }
            return job.value();
        });
        List<CompletableFuture<Object>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(bus.dispatch(job("k" + (i % 4), i)));
        }
        assertThat(all).noneMatch(CompletableFuture::isDone);
        assertThat(bus.waitingCommands()).as("3 admitted, the rest waiting").isEqualTo(17);
        release.countDown();
        for (int i = 0; i < 20; i++) {
            assertThat(all.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i);
        }
        for (int k = 0; k < 4; k++) {
            String key = "k" + k;
            List<Integer> order = ran.stream().filter(s -> s.startsWith(key))
                    .map(s -> Integer.parseInt(s.substring(2))).toList();
            assertThat(order).as("order of " + key).hasSize(5).isSorted();
        }
        assertThat(bus.pendingCommands()).isZero();
        assertThat(bus.waitingCommands()).isZero();
    }

    @Test
    void a_hot_aggregate_at_its_limit_holds_up_no_other_aggregate() throws Exception {
        CountDownLatch releaseHot = new CountDownLatch(1);
        bus.subscribe(Job.class, "Job", command -> {
            if (((Job) command.payload()).key().equals("hot")) {
                releaseHot.await(10, TimeUnit.SECONDS);
            }
            return "done";
        });
        List<CompletableFuture<Object>> hot = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            hot.add(bus.dispatch(job("hot", i)));
        }
        // The hot aggregate holds 2 of the node's 3 places; others pass through the third, one after another.
        for (int i = 0; i < 10; i++) {
            assertThat(bus.dispatch(job("cold-" + i, i)).get(10, TimeUnit.SECONDS)).isEqualTo("done");
        }
        assertThat(hot).noneMatch(CompletableFuture::isDone);
        releaseHot.countDown();
        CompletableFuture.allOf(hot.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void a_command_whose_deadline_passes_while_it_waits_is_dropped_unrun_as_not_executed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> ran = new ArrayList<>();
        bus.subscribe(Job.class, "Job", command -> {
            Job job = (Job) command.payload();
            if (job.value() == 0) {
                release.await(10, TimeUnit.SECONDS);
            }
            synchronized (ran) {
                ran.add(job.value());
            }
            return null;
        });
        CompletableFuture<Object> slow = bus.dispatch(job("a", 0));
        CommandMessage late = CommandMessage.of(new Job("a", 1)).withDeadline(Deadline.after(Duration.ofMillis(50)));
        CommandDispatch lateDispatch = bus.dispatch(late);
        while (!late.isLate()) {
            Thread.onSpinWait();
        }
        release.countDown();
        slow.get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> lateDispatch.get(10, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandNotExecutedException.class).hasMessageContaining("deadline");
        assertThat(lateDispatch.mayHaveRun()).isFalse();
        assertThat(ran).containsExactly(0);
    }

    @Test
    void a_delivery_its_sender_withdrew_never_runs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> ran = new ArrayList<>();
        bus.subscribe(Job.class, "Job", command -> {
            Job job = (Job) command.payload();
            if (job.value() == 0) {
                release.await(10, TimeUnit.SECONDS);
            }
            synchronized (ran) {
                ran.add(job.value());
            }
            return null;
        });
        CompletableFuture<Object> first = bus.dispatch(job("a", 0));
        CommandDispatch second = bus.dispatch(job("a", 1));
        assertThat(second.withdraw(new CommandNotExecutedException("withdrawn", "id"))).isTrue();
        CommandDispatch third = bus.dispatch(job("a", 2));
        release.countDown();
        first.get(10, TimeUnit.SECONDS);
        third.get(10, TimeUnit.SECONDS);
        assertThat(ran).containsExactly(0, 2);
        assertThat(bus.pendingCommands()).isZero();
    }

    @Test
    void a_command_refused_by_the_check_before_its_handler_counts_as_not_run() {
        bus.subscribe(Job.class, "Job", command -> "ran");
        CommandDispatch refused = bus.dispatch(job("a", 1), command -> {
            throw new IllegalStateException("not the owner");
        });
        assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).cause().hasMessage("not the owner");
        assertThat(refused.mayHaveRun()).isFalse();
    }

    @Test
    void a_command_nobody_handles_fails_naming_its_type_and_the_handled_ones() {
        bus.subscribe(Job.class, "Job", command -> null);
        CommandDispatch result = bus.dispatch(CommandMessage.of(new Other("x")));
        assertThatThrownBy(result::get).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(NoHandlerForCommandException.class)
                .hasMessageContaining(Other.class.getName())
                .hasMessageContaining("[Job]");
        assertThat(result.mayHaveRun()).isFalse();
    }

    @Test
    void a_second_handler_for_one_type_is_refused() {
        bus.subscribe(Job.class, "Job", command -> null);
        assertThatThrownBy(() -> bus.subscribe(Job.class, "Job", command -> null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Job.class.getName());
    }

    @Test
    void close_finishes_accepted_commands_then_refuses_new_ones_with_a_transient_error() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        bus.subscribe(Job.class, "Job", command -> {
            running.countDown();
            Thread.sleep(200);
            return "finished";
        });
        CompletableFuture<Object> accepted = bus.dispatch(job("a", 1));
        CompletableFuture<Object> waiting = bus.dispatch(job("a", 2));
        running.await(10, TimeUnit.SECONDS);
        bus.close();
        assertThat(accepted).isCompletedWithValue("finished");
        assertThat(waiting).isCompletedWithValue("finished");
        CompletableFuture<Object> late = bus.dispatch(job("a", 3));
        assertThatThrownBy(late::get).cause().isInstanceOf(CommandBusClosedException.class);
    }

    @Test
    void builder_refuses_bad_values_naming_them() {
        assertThatThrownBy(() -> LocalCommandBus.builder().maxPendingCommands(0))
                .hasMessage("maxPendingCommands must be between 1 and 10000000, but was 0");
        assertThatThrownBy(() -> LocalCommandBus.builder().maxPendingPerAggregate(0))
                .hasMessage("maxPendingPerAggregate must be between 1 and 10000000, but was 0");
        assertThatThrownBy(() -> LocalCommandBus.builder().workers(2000))
                .hasMessage("workers must be between 1 and 1024, but was 2000");
        assertThatThrownBy(() -> LocalCommandBus.builder().shutdownTimeout(Duration.ofSeconds(-1)))
                .hasMessageContaining("shutdownTimeout must not be negative");
    }
}
