package io.gyre.command.internal;

import io.gyre.Metadata;
import io.gyre.command.CommandBus;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandExecutionException;
import io.gyre.command.CommandGateway;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.Deadline;
import io.gyre.command.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * The node's {@link CommandGateway}: gives every command its deadline, sends it through {@link SentCommand} (which
 * retries and reports the deadline's outcome), and completes callers' futures on the callback executor.
 * Internal: not part of Gyre's API.
 */
public final class DefaultCommandGateway implements CommandGateway {

    private final CommandBus bus;
    private final RetryPolicy retryPolicy;
    private final Duration defaultTimeout;
    private final DeadlineTimer timer;
    private final Executor callbacks;
    private final Set<SentCommand> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * @param bus            the bus to send on
     * @param retryPolicy    how transient failures are retried
     * @param defaultTimeout the timeout of commands sent without one
     * @param timer          fires deadlines and back-offs
     * @param callbacks      completes callers' futures, so that their dependent stages never run on a bus thread
     */
    public DefaultCommandGateway(CommandBus bus, RetryPolicy retryPolicy, Duration defaultTimeout, DeadlineTimer timer,
                                 Executor callbacks) {
        this.bus = Objects.requireNonNull(bus, "bus");
        this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
        this.defaultTimeout = Deadline.checkTimeout(defaultTimeout);
        this.timer = Objects.requireNonNull(timer, "timer");
        this.callbacks = Objects.requireNonNull(callbacks, "callbacks");
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
        Deadline deadline = Deadline.after(timeout);
        return start(CommandMessage.of(command, metadata).withDeadline(deadline), callbacks);
    }

    @Override
    public <R> CompletableFuture<R> send(CommandMessage message) {
        Objects.requireNonNull(message, "message");
        return start(message.deadline() != null ? message : message.withDeadline(Deadline.after(defaultTimeout)),
                callbacks);
    }

    @Override
    public <R> CompletableFuture<R> send(CommandMessage message, Duration timeout) {
        Objects.requireNonNull(message, "message");
        return start(withTimeout(message, timeout), callbacks);
    }

    private static CommandMessage withTimeout(CommandMessage message, Duration timeout) {
        Deadline deadline = Deadline.after(timeout);
        return message.withDeadline(message.deadline() == null ? deadline : message.deadline().earliest(deadline));
    }

    @SuppressWarnings("unchecked")
    private <R> CompletableFuture<R> start(CommandMessage message, Executor completion) {
        CompletableFuture<Object> caller = new CompletableFuture<>();
        if (message.isLate()) {
            caller.completeExceptionally(new CommandNotExecutedException(message + " was not sent: its deadline had "
                    + "already passed", message.commandId()));
            return (CompletableFuture<R>) caller;
        }
        if (closed) {
            caller.completeExceptionally(new CommandBusClosedException("The Gyre node is closed; " + message
                    + " was not sent"));
            return (CompletableFuture<R>) caller;
        }
        SentCommand sent = new SentCommand(message, bus, retryPolicy, timer, caller, completion, inFlight::remove);
        inFlight.add(sent);
        if (closed) {
            // close() may have run between the check and the add: whoever finishes the command first wins.
            sent.abandon("the Gyre node is closed");
        } else {
            sent.start();
        }
        return (CompletableFuture<R>) caller;
    }

    @Override
    public <R> R sendAndWait(Object command) {
        return sendAndWait(command, defaultTimeout);
    }

    @Override
    public <R> R sendAndWait(Object command, Duration timeout) {
        Deadline deadline = Deadline.after(timeout);
        return await(CommandMessage.of(command, Metadata.empty()).withDeadline(deadline));
    }

    @Override
    public <R> R sendAndWait(CommandMessage message, Duration timeout) {
        Objects.requireNonNull(message, "message");
        return await(withTimeout(message, timeout));
    }

    private <R> R await(CommandMessage message) {
        // Completed directly on the bus's thread: the only one waiting is this caller, parked below. This thread
        // starts the command itself when the bus hands it over during the dispatch (CallerRuns): it would only wait.
        CompletableFuture<R> future = CallerRuns.collectWhile(() -> start(message, Runnable::run));
        try {
            // The deadline completes the future; get() without a timeout cannot outlive it.
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("Interrupted while waiting for " + message + "; it may still run under "
                    + "command id " + message.commandId());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new CommandExecutionException("Handler of " + message.payloadType().getName() + " threw " + cause,
                    cause);
        }
    }

    /** @return commands sent and not finished */
    public int inFlight() {
        return inFlight.size();
    }

    /**
     * Refuses new commands from now on (with a transient {@link CommandBusClosedException}: send them through another
     * node) and waits, up to the timeout, for the commands already sent to finish.
     *
     * @param timeout how long to wait
     * @return true when none is left
     */
    public boolean drain(Duration timeout) {
        closed = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return inFlight.isEmpty();
            }
        }
        return inFlight.isEmpty();
    }

    /**
     * Refuses new commands and ends those still unfinished (waiting for a retry, say) as the deadline would:
     * not executed, or outcome unknown when an attempt may have run. Call after the bus finished what it accepted.
     */
    public void close() {
        closed = true;
        for (SentCommand sent : inFlight) {
            sent.abandon("the Gyre node closed");
        }
    }
}
