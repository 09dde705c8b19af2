package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.command.internal.DeadlineTimer;
import io.gyre.command.internal.DefaultCommandGateway;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: a command whose first delivery may have run (its member left before answering) and whose retry then fails
 * for a reason of its own must not be reported with that retry's failure alone, which reads as "it failed": the
 * caller would send it again under a new id and have it run twice. Only "outcome unknown" (with the command id)
 * lets the caller resolve it safely (I8).
 */
class RetriesAfterAMaybeRunReviewTest {

    record Ping(@TargetAggregateId String id) {
    }

    private final DeadlineTimer timer = new DeadlineTimer("test-deadlines");
    private final ExecutorService callbacks = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-callbacks"));
    private final List<CommandMessage> attempts = new CopyOnWriteArrayList<>();

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

    /** The first delivery started on a member that left before answering: it may have run. */
    private static CommandDispatch mayHaveRun(CommandMessage command) {
        CommandDispatch dispatch = new CommandDispatch(command);
        dispatch.start();
        dispatch.completeExceptionally(new GyreTransientException("member node-b left before answering " + command));
        return dispatch;
    }

    private static Throwable failureOf(DefaultCommandGateway gateway) throws Exception {
        try {
            gateway.send(new Ping("p")).get(10, TimeUnit.SECONDS);
            throw new AssertionError("the command succeeded");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void a_maybe_run_command_whose_last_allowed_retry_is_refused_unrun_is_reported_as_outcome_unknown()
            throws Exception {
        RetryPolicy twoAttempts = RetryPolicy.builder().maxAttempts(2).initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(2)).build();
        DefaultCommandGateway gateway = gateway(twoAttempts, command -> command.attempt() == 1 ? mayHaveRun(command)
                : CommandDispatch.refused(command, new GyreTransientException("node-c is not the owner yet")));

        Throwable failure = failureOf(gateway);

        assertThat(attempts).hasSize(2);
        assertThat(failure).as("the first delivery may have run, so the caller must not be told only that the retry "
                + "was refused").isInstanceOf(CommandOutcomeUnknownException.class);
    }

    @Test
    void a_maybe_run_command_whose_retry_fails_for_good_unrun_is_reported_as_outcome_unknown() throws Exception {
        RetryPolicy fast = RetryPolicy.builder().initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2))
                .build();
        DefaultCommandGateway gateway = gateway(fast, command -> command.attempt() == 1 ? mayHaveRun(command)
                : CommandDispatch.refused(command, new GyreNonTransientException("the new owner node-c has no "
                        + "handler for Ping")));

        Throwable failure = failureOf(gateway);

        assertThat(attempts).hasSize(2);
        assertThat(failure).as("the first delivery may have run").isInstanceOf(CommandOutcomeUnknownException.class);
    }
}
