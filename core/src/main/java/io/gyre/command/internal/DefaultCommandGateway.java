package io.gyre.command.internal;

import io.gyre.Metadata;
import io.gyre.command.CommandBus;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandExecutionException;
import io.gyre.command.CommandGateway;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Wraps command objects in messages and sends them on a bus that already retries. The deadline is enforced
 * by a periodic sweep that completes the caller's future with a {@link CommandTimeoutException}; that cancels the
 * bus's future, so a retrying bus sees it done and stops. Internal: not part of Gyre's API.
 */
public final class DefaultCommandGateway implements CommandGateway {

    private final CommandBus bus;
    private final Duration defaultTimeout;
    private final Map<CompletableFuture<Object>, Deadline> inFlight = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** How often waiting commands are checked against their deadlines; a deadline fires at most this late. */
    private static final long SWEEP_MILLIS = 10;

    private record Deadline(long nanoTime, CommandMessage message, Duration timeout) {
    }

    /**
     * @param bus            the bus, with retries
     * @param defaultTimeout the deadline of commands sent without one
     * @param scheduler      runs the sweep that enforces deadlines
     */
    public DefaultCommandGateway(CommandBus bus, Duration defaultTimeout, ScheduledExecutorService scheduler) {
        this.bus = Objects.requireNonNull(bus, "bus");
        this.defaultTimeout = checkTimeout(defaultTimeout);
        // One periodic sweep instead of a timer per command: scheduling and cancelling a task per command
        // contended on the scheduler's queue under load.
        scheduler.scheduleWithFixedDelay(this::expire, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void expire() {
        long now = System.nanoTime();
        inFlight.forEach((future, deadline) -> {
            if (now - deadline.nanoTime() >= 0) {
                future.completeExceptionally(new CommandTimeoutException(deadline.message()
                        + " got no result within " + deadline.timeout()));
            }
        });
    }

    @Override
    public <R> CompletableFuture<R> send(Object command) {
        return send(command, Metadata.empty(), defaultTimeout);
    }

    @Override
    public <R> CompletableFuture<R> send(Object command, Metadata metadata) {
        return send(command, metadata, defaultTimeout);
    }

    @Override
    public <R> CompletableFuture<R> send(Object command, Metadata metadata, Duration timeout) {
        CommandMessage message;
        try {
            Objects.requireNonNull(command, "command");
            Objects.requireNonNull(metadata, "metadata");
            message = CommandMessage.of(command, metadata);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return send(message, timeout);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <R> CompletableFuture<R> send(CommandMessage message, Duration timeout) {
        try {
            Objects.requireNonNull(message, "message");
            checkTimeout(timeout);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (closed) {
            return CompletableFuture.failedFuture(new CommandBusClosedException("The Gyre node is closed; " + message
                    + " was not sent"));
        }
        CompletableFuture<Object> result = new CompletableFuture<>();
        inFlight.put(result, new Deadline(System.nanoTime() + timeout.toNanos(), message, timeout));
        result.whenComplete((value, failure) -> inFlight.remove(result));
        CompletableFuture<Object> dispatched = bus.dispatch(message);
        dispatched.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
            }
        });
        // Tells a retrying bus that nobody waits any more, so it stops retrying.
        result.whenComplete((value, failure) -> dispatched.cancel(false));
        return (CompletableFuture<R>) result;
    }

    @Override
    public <R> R sendAndWait(Object command) {
        return sendAndWait(command, defaultTimeout);
    }

    @Override
    public <R> R sendAndWait(Object command, Duration timeout) {
        CompletableFuture<R> future = send(command, Metadata.empty(), timeout);
        try {
            // The deadline completes the future; the extra second only guards against a scheduler that died.
            return future.get(timeout.toNanos() + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new CommandTimeoutException(command.getClass().getSimpleName() + " got no result within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            throw new CancellationException("Interrupted while waiting for " + command.getClass().getSimpleName());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new CommandExecutionException("Handler of " + command.getClass().getName() + " threw " + cause,
                    cause);
        }
    }

    /**
     * Refuses new commands and fails those still waiting (for a retry, say) with a transient
     * {@link CommandBusClosedException}, so that no caller waits on a node that has stopped.
     */
    public void close() {
        closed = true;
        for (CompletableFuture<Object> waiting : inFlight.keySet()) {
            waiting.completeExceptionally(new CommandBusClosedException("The Gyre node closed before the command "
                    + "completed"));
        }
    }

    private static Duration checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, but was " + timeout);
        }
        return timeout;
    }
}
