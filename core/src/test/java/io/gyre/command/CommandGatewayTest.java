package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.Metadata;
import io.gyre.command.internal.DeadlineTimer;
import io.gyre.command.internal.DefaultCommandGateway;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The gateway over buses that behave as told: retries, deadlines and their two outcomes, bad input, threads. */
class CommandGatewayTest {

    record Ping(@TargetAggregateId String id) {
    }

    private final DeadlineTimer timer = new DeadlineTimer("test-deadlines");
    private final ExecutorService callbacks = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-callbacks"));
    private final List<CommandMessage> attempts = new CopyOnWriteArrayList<>();
    private final RetryPolicy fast = RetryPolicy.builder().initialBackoff(Duration.ofMillis(1))
            .maxBackoff(Duration.ofMillis(5)).build();

    @AfterEach
    void stop() {
        timer.close();
        callbacks.shutdownNow();
    }

    private DefaultCommandGateway gateway(RetryPolicy policy, Function<CommandMessage, CommandDispatch> bus) {
        return new DefaultCommandGateway(command -> {
            attempts.add(command);
            return bus.apply(command);
        }, policy, Duration.ofSeconds(30), timer, callbacks);
    }

    private static CommandDispatch succeeded(CommandMessage command, Object value) {
        CommandDispatch dispatch = new CommandDispatch(command);
        dispatch.start();
        dispatch.complete(value);
        return dispatch;
    }

    private static CommandDispatch failed(CommandMessage command, Throwable failure, boolean ran) {
        CommandDispatch dispatch = new CommandDispatch(command);
        if (ran) {
            dispatch.start();
            dispatch.completeExceptionally(failure);
        } else {
            dispatch.failNotRun(failure);
        }
        return dispatch;
    }

    @Test
    void transient_failures_are_retried_with_the_same_command_id_until_success() throws Exception {
        DefaultCommandGateway gateway = gateway(fast, command -> attempts.size() < 3
                ? failed(command, new GyreTransientException("not the owner " + attempts.size()), false)
                : succeeded(command, "ok"));
        assertThat(gateway.send(new Ping("p")).get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(attempts).hasSize(3).extracting(CommandMessage::commandId).containsOnly(attempts.get(0).commandId());
        assertThat(attempts).extracting(CommandMessage::attempt).containsExactly(1, 2, 3);
        assertThat(attempts).allSatisfy(sent -> assertThat(sent.deadline()).isNotNull());
    }

    @Test
    void non_transient_failures_and_handler_exceptions_are_never_retried() {
        for (RuntimeException failure : List.of(new GyreNonTransientException("bad command"),
                new IllegalArgumentException("business rule"))) {
            attempts.clear();
            DefaultCommandGateway gateway = gateway(fast, command -> failed(command, failure, true));
            CompletableFuture<Object> result = gateway.send(new Ping("p"));
            assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isSameAs(failure);
            assertThat(attempts).hasSize(1);
        }
    }

    @Test
    void retries_go_on_until_the_deadline_and_a_maximum_of_attempts_is_an_option() {
        DefaultCommandGateway unlimited = gateway(fast, command -> failed(command,
                new GyreTransientException("member left"), false));
        // 2 s at back-offs of at most 5 ms leave room for hundreds of attempts; more than 12 (the count that once
        // ended retries) must show even on a loaded machine (300 ms allowed only 11 under a parallel build).
        assertThatThrownBy(() -> unlimited.sendAndWait(new Ping("p"), Duration.ofSeconds(2)))
                .isInstanceOf(CommandNotExecutedException.class);
        assertThat(attempts.size()).as("retried until the deadline, not after a count").isGreaterThan(12);

        attempts.clear();
        DefaultCommandGateway bounded = gateway(RetryPolicy.builder().maxAttempts(5)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(1)).build(), command ->
                failed(command, new GyreTransientException("still failing at attempt " + attempts.size()), false));
        assertThatThrownBy(() -> bounded.sendAndWait(new Ping("p"), Duration.ofSeconds(10)))
                .hasMessage("still failing at attempt 5");
        assertThat(attempts).hasSize(5);
    }

    @Test
    void a_last_attempt_that_may_have_run_is_reported_as_outcome_unknown_with_its_failure_as_the_cause() {
        GyreTransientException memberLeft = new GyreTransientException("member node-b left while running it");
        DefaultCommandGateway once = gateway(RetryPolicy.none(), command -> failed(command, memberLeft, true));
        assertThatThrownBy(() -> once.sendAndWait(new Ping("p"), Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(CommandOutcomeUnknownException.class, unknown -> {
                    assertThat(unknown.commandId()).isEqualTo(attempts.get(0).commandId());
                    assertThat(unknown).hasCause(memberLeft).hasMessageContaining("last attempt (1 of 1)");
                });
        assertThat(attempts).hasSize(1);

        // The same at the last of several attempts, the earlier ones not run.
        attempts.clear();
        DefaultCommandGateway three = gateway(RetryPolicy.builder().maxAttempts(3)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(1)).build(), command ->
                attempts.size() < 3 ? failed(command, new GyreTransientException("not the owner"), false)
                        : failed(command, memberLeft, true));
        assertThatThrownBy(() -> three.sendAndWait(new Ping("p"), Duration.ofSeconds(10)))
                .isInstanceOf(CommandOutcomeUnknownException.class).hasCause(memberLeft);
        assertThat(attempts).hasSize(3);
    }

    @Test
    void a_last_attempt_that_did_not_run_or_met_a_conflict_passes_its_failure_on_as_it_is() {
        GyreTransientException notOwner = new GyreTransientException("not the owner");
        DefaultCommandGateway notRun = gateway(RetryPolicy.none(), command -> failed(command, notOwner, false));
        assertThatThrownBy(() -> notRun.sendAndWait(new Ping("p"), Duration.ofSeconds(10))).isSameAs(notOwner);

        // A conflict is exact: the store refused the append, nothing of it is stored.
        io.gyre.eventstore.ConcurrencyConflictException conflict = new io.gyre.eventstore.ConcurrencyConflictException(
                io.gyre.eventstore.StreamId.of("Ping", "p"), 1, 2);
        DefaultCommandGateway conflicted = gateway(RetryPolicy.none(), command -> failed(command, conflict, true));
        assertThatThrownBy(() -> conflicted.sendAndWait(new Ping("p"), Duration.ofSeconds(10))).isSameAs(conflict);
    }

    @Test
    void a_deadline_that_passes_before_any_delivery_ran_is_reported_as_not_executed() {
        // The bus never starts the delivery: it is waiting for capacity when the deadline passes.
        AtomicReference<CommandDispatch> waiting = new AtomicReference<>();
        DefaultCommandGateway gateway = gateway(fast, command -> {
            waiting.set(new CommandDispatch(command));
            return waiting.get();
        });
        CompletableFuture<Object> result = gateway.send(new Ping("p"), Metadata.empty(), Duration.ofMillis(100));
        assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandNotExecutedException.class)
                .hasMessageContaining("nothing of it is stored");
        assertThat(waiting.get().start()).as("the bus can no longer start the withdrawn delivery").isFalse();
        CommandTimeoutException timeout = (CommandTimeoutException) result.handle((v, e) -> e).join();
        assertThat(timeout.commandId()).isEqualTo(attempts.get(0).commandId());
        assertThat(GyreTransientException.isCauseOf(timeout)).isTrue();
    }

    @Test
    void a_deadline_that_passes_while_a_delivery_runs_is_reported_as_outcome_unknown_with_the_command_id() {
        DefaultCommandGateway gateway = gateway(fast, command -> {
            CommandDispatch running = new CommandDispatch(command);
            running.start();
            return running;
        });
        CompletableFuture<Object> result = gateway.send(new Ping("p"), Metadata.empty(), Duration.ofMillis(100));
        assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandOutcomeUnknownException.class)
                .hasMessageContaining(attempts.get(0).commandId());
        CommandTimeoutException unknown = (CommandTimeoutException) result.handle((v, e) -> e).join();
        assertThat(unknown.commandId()).isEqualTo(attempts.get(0).commandId());
    }

    @Test
    void once_a_delivery_may_have_run_a_later_deadline_is_outcome_unknown_even_between_retries() {
        DefaultCommandGateway gateway = gateway(RetryPolicy.builder().initialBackoff(Duration.ofSeconds(5))
                .maxBackoff(Duration.ofSeconds(5)).jitter(0).build(), command -> failed(command,
                new GyreTransientException("connection lost during commit"), true));
        assertThatThrownBy(() -> gateway.sendAndWait(new Ping("p"), Duration.ofMillis(200)))
                .isInstanceOf(CommandOutcomeUnknownException.class);
        assertThat(attempts).hasSize(1);
    }

    @Test
    void a_retry_the_bus_drops_for_its_deadline_before_the_timer_fires_is_answered_as_the_deadline_would() {
        for (boolean firstMayHaveRun : List.of(false, true)) {
            attempts.clear();
            GyreTransientException retried = new GyreTransientException("handler not available yet");
            // The retry runs on the timer's thread and holds it past the deadline, as a loaded machine can: the bus
            // sees the deadline first and drops the retry unrun.
            DefaultCommandGateway gateway = gateway(fast, command -> {
                if (attempts.size() == 1) {
                    return failed(command, retried, firstMayHaveRun);
                }
                while (!command.isLate()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
                CommandDispatch late = new CommandDispatch(command);
                late.withdraw(new CommandNotExecutedException(command + " waited past its deadline to be sent",
                        command.commandId()));
                return late;
            });
            Class<? extends RuntimeException> expected = firstMayHaveRun ? CommandOutcomeUnknownException.class
                    : CommandNotExecutedException.class;
            assertThatThrownBy(() -> gateway.sendAndWait(new Ping("p"), Duration.ofSeconds(1)))
                    .as("the first delivery may have run: %s", firstMayHaveRun)
                    .isInstanceOf(expected).hasCause(retried);
            assertThat(attempts).hasSize(2);
        }
    }

    @Test
    void bad_input_is_refused_at_send_and_nothing_is_dispatched() {
        DefaultCommandGateway gateway = gateway(fast, command -> succeeded(command, "ok"));
        assertThatThrownBy(() -> gateway.send((Object) null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("command");
        assertThatThrownBy(() -> gateway.send(new Ping("p"), Metadata.empty(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was PT0S");
        assertThatThrownBy(() -> gateway.send(new Ping("p"), Metadata.empty(), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was PT-1S");
        assertThatThrownBy(() -> gateway.send(new Ping(" "))).isInstanceOf(MissingTargetAggregateIdException.class);
        assertThatThrownBy(() -> gateway.send(new Ping("x".repeat(256))))
                .isInstanceOf(MissingTargetAggregateIdException.class).hasMessageContaining("256 characters");
        CommandMessage late = CommandMessage.of(new Ping("p")).withDeadline(Deadline.afterNanos(-1));
        assertThatThrownBy(() -> gateway.send(late).get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandNotExecutedException.class).hasMessageContaining("already passed");
        assertThat(attempts).isEmpty();
    }

    @Test
    void futures_complete_on_the_callback_threads_never_on_the_bus_thread() throws Exception {
        java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
        DefaultCommandGateway gateway = gateway(fast, command -> {
            CommandDispatch dispatch = new CommandDispatch(command);
            Thread worker = new Thread(() -> {
                try {
                    // Complete only once the caller's stage is attached; a stage attached to a future already
                    // complete runs on the attaching thread, whoever completed it.
                    attached.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                dispatch.start();
                dispatch.complete("done");
            }, "bus-worker");
            worker.start();
            return dispatch;
        });
        CompletableFuture<String> thread = gateway.send(new Ping("p")).thenApply(value -> Thread.currentThread()
                .getName());
        attached.countDown();
        assertThat(thread.get(5, TimeUnit.SECONDS)).isEqualTo("test-callbacks");
    }

    @Test
    void sendAndWait_wraps_a_checked_handler_exception_and_throws_unchecked_ones_as_they_are() {
        Exception checked = new java.io.IOException("disk full");
        DefaultCommandGateway checkedGateway = gateway(fast, command -> failed(command, checked, true));
        assertThatThrownBy(() -> checkedGateway.sendAndWait(new Ping("p")))
                .isInstanceOf(CommandExecutionException.class).hasCause(checked);
        IllegalStateException unchecked = new IllegalStateException("rule");
        DefaultCommandGateway uncheckedGateway = gateway(fast, command -> failed(command, unchecked, true));
        assertThatThrownBy(() -> uncheckedGateway.sendAndWait(new Ping("p"))).isSameAs(unchecked);
    }

    @Test
    void close_ends_commands_waiting_for_a_retry_as_not_executed() {
        DefaultCommandGateway gateway = gateway(RetryPolicy.builder().initialBackoff(Duration.ofSeconds(5))
                .maxBackoff(Duration.ofSeconds(5)).jitter(0).build(), command -> failed(command,
                new GyreTransientException("not the owner"), false));
        CompletableFuture<Object> result = gateway.send(new Ping("p"));
        while (attempts.isEmpty()) {
            Thread.onSpinWait();
        }
        gateway.close();
        assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandNotExecutedException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> gateway.send(new Ping("q")).get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CommandBusClosedException.class);
    }
}
