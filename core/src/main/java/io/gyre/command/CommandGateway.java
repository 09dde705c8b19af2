package io.gyre.command;

import io.gyre.Metadata;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The entry point for sending commands. Each command gets a unique command id that stays the same across every
 * retry and re-route, and is routed by its {@link TargetAggregateId}. Transient failures (concurrency conflicts,
 * an overloaded bus, a member that left) are retried under the node's {@link RetryPolicy} within the
 * command's deadline; exceptions thrown by command handlers come back unchanged and are never retried.
 *
 * <p>Thread-safe. The result type {@code R} is whatever the handler returns (the aggregate id for a creation
 * command); it is not checked.
 *
 * <p>The returned futures complete on Gyre's threads (the worker that ran the command, or the thread that
 * received the reply). Dependent stages that block, above all a {@code sendAndWait} for the same aggregate
 * inside a {@code thenAccept}, must use the {@code ...Async} variants with an executor of your own; otherwise
 * they hold the thread the next command of that aggregate is waiting for.
 */
public interface CommandGateway {

    /**
     * Sends a command with the node's default timeout.
     *
     * @param command the command object
     * @param <R>     the handler's result type
     * @return completes with the handler's result, or exceptionally with the handler's exception, a Gyre
     *         exception, or a {@link CommandTimeoutException}; never throws itself
     */
    <R> CompletableFuture<R> send(Object command);

    /**
     * Sends a command with metadata and the node's default timeout.
     *
     * @param command  the command object
     * @param metadata metadata passed to the handler
     * @param <R>      the handler's result type
     * @return as for {@link #send(Object)}
     */
    <R> CompletableFuture<R> send(Object command, Metadata metadata);

    /**
     * Sends a command with metadata and a deadline.
     *
     * @param command  the command object
     * @param metadata metadata passed to the handler
     * @param timeout  how long to wait for the result, retries included
     * @param <R>      the handler's result type
     * @return as for {@link #send(Object)}
     */
    <R> CompletableFuture<R> send(Object command, Metadata metadata, Duration timeout);

    /**
     * Sends a prepared command message, for example one with a caller-chosen
     * {@link CommandMessage#withCommandId(String) command id} that makes re-sending it safe.
     *
     * @param message the command message
     * @param timeout how long to wait for the result, retries included
     * @param <R>     the handler's result type
     * @return as for {@link #send(Object)}
     */
    <R> CompletableFuture<R> send(CommandMessage message, Duration timeout);

    /**
     * Sends a command and waits for its result, at most the node's default timeout.
     *
     * @param command the command object
     * @param <R>     the handler's result type
     * @return the handler's result
     * @throws CommandTimeoutException    when no result came within the timeout
     * @throws CommandExecutionException  wrapping a checked exception of the handler
     * @throws RuntimeException           the handler's unchecked exception, or a Gyre exception, as it is
     */
    <R> R sendAndWait(Object command);

    /**
     * Sends a command and waits for its result.
     *
     * @param command the command object
     * @param timeout how long to wait, retries included
     * @param <R>     the handler's result type
     * @return the handler's result
     * @throws CommandTimeoutException    when no result came within the timeout
     * @throws CommandExecutionException  wrapping a checked exception of the handler
     * @throws RuntimeException           the handler's unchecked exception, or a Gyre exception, as it is
     */
    <R> R sendAndWait(Object command, Duration timeout);
}
