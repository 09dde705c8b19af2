package io.gyre.command;

import io.gyre.GyreTransientException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A decorator that re-dispatches a command which failed transiently, with the same command id and the attempt
 * number counted up (so the handling node checks for an earlier attempt's stored events), after the back-off
 * of a {@link RetryPolicy}. It stops as soon as the caller's future is complete (for example because
 * its deadline passed), when the policy's attempts are used up, or on the first non-transient failure.
 */
public final class RetryingCommandBus implements CommandBus {

    private static final Logger log = LoggerFactory.getLogger(RetryingCommandBus.class);

    private final CommandBus delegate;
    private final RetryPolicy policy;
    private final ScheduledExecutorService scheduler;
    private final LongAdder retries = new LongAdder();

    /**
     * @param delegate  the bus to retry on
     * @param policy    when and how often to retry
     * @param scheduler runs delayed retries; a retry only re-dispatches, so one thread is plenty
     */
    public RetryingCommandBus(CommandBus delegate, RetryPolicy policy, ScheduledExecutorService scheduler) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** @return how many retries this bus has made */
    public long retries() {
        return retries.sum();
    }

    @Override
    public CompletableFuture<Object> dispatch(CommandMessage command) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        attempt(command, result, 1);
        return result;
    }

    private void attempt(CommandMessage command, CompletableFuture<Object> result, int attempt) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<Object> outcome;
        try {
            outcome = delegate.dispatch(command.withAttempt(attempt));
        } catch (RuntimeException e) {
            outcome = CompletableFuture.failedFuture(e);
        }
        outcome.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
                return;
            }
            Throwable cause = unwrap(failure);
            if (attempt >= policy.maxAttempts() || !GyreTransientException.isCauseOf(cause) || result.isDone()) {
                result.completeExceptionally(cause);
                return;
            }
            long delay = policy.backoffAfter(attempt, ThreadLocalRandom.current()).toNanos();
            log.debug("Retrying {} in {} µs after attempt {} failed: {}", command, delay / 1000, attempt,
                    cause.toString());
            retries.increment();
            try {
                scheduler.schedule(() -> attempt(command, result, attempt + 1), delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(cause);
            }
        });
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    @Override
    public void start(CommandBusContext context) {
        delegate.start(context);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
