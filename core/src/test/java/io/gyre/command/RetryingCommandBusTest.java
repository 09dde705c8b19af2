package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.command.internal.DefaultCommandGateway;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RetryingCommandBusTest {

    record Ping(@TargetAggregateId String id) {
    }

    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private final List<CommandMessage> attempts = new CopyOnWriteArrayList<>();
    private final RetryPolicy fast = RetryPolicy.builder().maxAttempts(5).initialBackoff(Duration.ofMillis(1))
            .maxBackoff(Duration.ofMillis(5)).build();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private CommandBus failing(Function<Integer, CompletableFuture<Object>> outcomeOfAttempt) {
        return command -> {
            attempts.add(command);
            return outcomeOfAttempt.apply(attempts.size());
        };
    }

    @Test
    void transient_failures_are_retried_with_the_same_command_id_until_success() throws Exception {
        CommandBus bus = new RetryingCommandBus(failing(attempt -> attempt < 3
                ? CompletableFuture.failedFuture(new GyreTransientException("conflict " + attempt))
                : CompletableFuture.completedFuture("ok")), fast, scheduler);
        CommandMessage command = CommandMessage.of(new Ping("p"));
        assertThat(bus.dispatch(command).get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(attempts).hasSize(3).allSatisfy(sent -> {
            assertThat(sent.commandId()).isEqualTo(command.commandId());
            assertThat(sent.payload()).isSameAs(command.payload());
        });
        assertThat(attempts).extracting(CommandMessage::attempt).containsExactly(1, 2, 3);
        assertThat(((RetryingCommandBus) bus).retries()).isEqualTo(2);
    }

    @Test
    void non_transient_failures_and_handler_exceptions_are_never_retried() {
        for (RuntimeException failure : List.of(new GyreNonTransientException("bad command"),
                new IllegalArgumentException("business rule"))) {
            attempts.clear();
            CommandBus bus = new RetryingCommandBus(failing(attempt -> CompletableFuture.failedFuture(failure)), fast,
                    scheduler);
            CompletableFuture<Object> result = bus.dispatch(CommandMessage.of(new Ping("p")));
            assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isSameAs(failure);
            assertThat(attempts).hasSize(1);
        }
    }

    @Test
    void attempts_are_bounded_and_the_last_transient_failure_is_reported() {
        CommandBus bus = new RetryingCommandBus(failing(attempt -> CompletableFuture.failedFuture(
                new GyreTransientException("still failing at attempt " + attempt))), fast, scheduler);
        CompletableFuture<Object> result = bus.dispatch(CommandMessage.of(new Ping("p")));
        assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).cause()
                .hasMessage("still failing at attempt 5");
        assertThat(attempts).hasSize(5);
    }

    @Test
    void a_transient_failure_thrown_instead_of_returned_is_retried_too() throws Exception {
        CommandBus bus = new RetryingCommandBus(command -> {
            attempts.add(command);
            if (attempts.size() == 1) {
                throw new GyreTransientException("thrown");
            }
            return CompletableFuture.completedFuture("ok");
        }, fast, scheduler);
        assertThat(bus.dispatch(CommandMessage.of(new Ping("p"))).get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(attempts).hasSize(2);
    }

    @Test
    void the_gateway_deadline_fails_the_command_with_a_timeout_and_stops_the_retries() throws Exception {
        RetryPolicy slow = RetryPolicy.builder().maxAttempts(1000).initialBackoff(Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(20)).build();
        CommandBus bus = new RetryingCommandBus(failing(attempt -> CompletableFuture.failedFuture(
                new GyreTransientException("member left"))), slow, scheduler);
        CommandGateway gateway = new DefaultCommandGateway(bus, Duration.ofSeconds(30), scheduler);
        assertThatThrownBy(() -> gateway.sendAndWait(new Ping("p"), Duration.ofMillis(200)))
                .isInstanceOf(CommandTimeoutException.class)
                .hasMessageContaining("Ping")
                .hasMessageContaining("PT0.2S");
        int attemptsAtDeadline = attempts.size();
        Thread.sleep(200);
        assertThat(attempts.size()).as("no retry after the caller gave up").isLessThanOrEqualTo(attemptsAtDeadline + 1);
    }

    @Test
    void a_command_that_never_answers_times_out_with_a_transient_error() {
        CommandGateway gateway = new DefaultCommandGateway(command -> new CompletableFuture<>(),
                Duration.ofMillis(100), scheduler);
        CompletableFuture<Object> result = gateway.send(new Ping("p"));
        assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(CommandTimeoutException.class);
        assertThat(GyreTransientException.isCauseOf(result.handle((v, e) -> e).join())).isTrue();
    }

    @Test
    void sendAndWait_wraps_a_checked_handler_exception_and_throws_unchecked_ones_as_they_are() {
        Exception checked = new java.io.IOException("disk full");
        CommandGateway checkedGateway = new DefaultCommandGateway(command -> CompletableFuture.failedFuture(checked),
                Duration.ofSeconds(5), scheduler);
        assertThatThrownBy(() -> checkedGateway.sendAndWait(new Ping("p")))
                .isInstanceOf(CommandExecutionException.class).hasCause(checked);
        IllegalStateException unchecked = new IllegalStateException("rule");
        CommandGateway uncheckedGateway = new DefaultCommandGateway(
                command -> CompletableFuture.failedFuture(unchecked), Duration.ofSeconds(5), scheduler);
        assertThatThrownBy(() -> uncheckedGateway.sendAndWait(new Ping("p"))).isSameAs(unchecked);
    }
}
