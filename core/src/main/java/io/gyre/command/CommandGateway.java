package io.gyre.command;

import io.gyre.Metadata;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The entry point for sending commands. Thread-safe.
 *
 * <h2>Deadlines, waiting and retries</h2>
 * Every command has one deadline (the timeout given, or the node's {@code commandTimeout}), which travels with
 * it to whichever node runs it. Until then:
 * <ul>
 *   <li>a command is never refused for being early: when the node or the owner has no capacity, it waits for it, in
 *       send order, and {@code send} returns at once with a future that completes later;</li>
 *   <li>transient failures (the owner moved, a member left) are retried with back-off under the same command id;
 *       a concurrency conflict, and a store briefly unreachable, are retried in place on fresh state, inside the
 *       aggregate's turn, so they never let later commands overtake;</li>
 *   <li>exceptions thrown by command handlers come back unchanged (or, when the decision was made on another node or
 *       by an earlier delivery of the same command id, as a {@link CommandRefusedException} naming the exception's
 *       class and message) and are never retried: the first decision on a command id is final.</li>
 * </ul>
 * When the deadline passes first, the caller gets a {@link CommandTimeoutException} that says which case it is:
 * {@link CommandNotExecutedException} when the command never ran and nothing of it is stored (send it again, under
 * any id), or {@link CommandOutcomeUnknownException} when it may be running or committing: send it again under its
 * {@link CommandTimeoutException#commandId() command id} to learn the outcome without running it twice.
 *
 * <h2>Order</h2>
 * Commands that one thread sends for one aggregate run in the order they were sent while the aggregate's owner does
 * not change, whether they wait for capacity or are retried after a conflict or a store failure. When the owner
 * changes (a member joins, leaves or crashes), commands already on their way to the old owner are re-sent to the new
 * one and may then run after commands sent later; each still runs at most once.
 *
 * <h2>Threads</h2>
 * Futures returned by {@code send} complete on the node's callback threads, never on a thread that runs commands or
 * carries cluster traffic, so a slow callback cannot hold up other aggregates. It can still hold up other callbacks:
 * use the {@code ...Async} stages with an executor of your own for work that blocks.
 */
public interface CommandGateway {

    /**
     * Sends a command with the node's default timeout.
     *
     * @param command the command object
     * @param <R>     the handler's result type (the aggregate id for a creation command); not checked
     * @return completes with the handler's result, or exceptionally with the handler's exception, a Gyre exception,
     *         or a {@link CommandTimeoutException}
     * @throws NullPointerException              when the command is null; nothing is sent
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate; nothing is sent
     */
    <R> CompletableFuture<R> send(Object command);

    /**
     * Sends a command with metadata and the node's default timeout.
     *
     * @param command  the command object
     * @param metadata metadata passed to the handler
     * @param <R>      the handler's result type
     * @return as for {@link #send(Object)}
     * @throws NullPointerException              when an argument is null; nothing is sent
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate; nothing is sent
     */
    <R> CompletableFuture<R> send(Object command, Metadata metadata);

    /**
     * Sends a command with metadata and a timeout.
     *
     * @param command  the command object
     * @param metadata metadata passed to the handler
     * @param timeout  how long the command may take, waiting and retries included; more than zero
     * @param <R>      the handler's result type
     * @return as for {@link #send(Object)}
     * @throws NullPointerException              when an argument is null; nothing is sent
     * @throws IllegalArgumentException          when the timeout is zero or negative; nothing is sent
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate; nothing is sent
     */
    <R> CompletableFuture<R> send(Object command, Metadata metadata, Duration timeout);

    /**
     * Sends a prepared command message, for example one with a caller-chosen
     * {@link CommandMessage#withCommandId(String) command id} that makes re-sending it safe, or with a
     * {@link CommandMessage#withDeadline(Deadline) deadline} taken from a client's request. Its deadline is the
     * message's own, or the node's default timeout from now when it has none.
     *
     * @param message the command message
     * @param <R>     the handler's result type
     * @return as for {@link #send(Object)}; a message whose deadline has already passed fails at once with a
     *         {@link CommandNotExecutedException} and is not sent
     * @throws NullPointerException when the message is null
     */
    <R> CompletableFuture<R> send(CommandMessage message);

    /**
     * Sends a prepared command message with a timeout; the deadline is the earlier of the message's own, if any,
     * and the timeout from now.
     *
     * @param message the command message
     * @param timeout how long the command may take, waiting and retries included; more than zero
     * @param <R>     the handler's result type
     * @return as for {@link #send(CommandMessage)}
     * @throws NullPointerException     when an argument is null; nothing is sent
     * @throws IllegalArgumentException when the timeout is zero or negative; nothing is sent
     */
    <R> CompletableFuture<R> send(CommandMessage message, Duration timeout);

    /**
     * Sends a command and waits for its result, at most the node's default timeout.
     *
     * @param command the command object
     * @param <R>     the handler's result type
     * @return the handler's result
     * @throws CommandTimeoutException   when the deadline passed first: not executed, or outcome unknown
     * @throws CommandExecutionException wrapping a checked exception of the handler
     * @throws RuntimeException          the handler's unchecked exception, or a Gyre exception, as it is
     */
    <R> R sendAndWait(Object command);

    /**
     * Sends a command and waits for its result. When this node runs the command and its aggregate has nothing else
     * queued here and is cached, the calling thread decides it itself instead of waking a worker and sleeping
     * meanwhile (it runs the handler); a command that must first read the store (an aggregate not cached, a creation,
     * a redelivery) is decided by a worker, so that the deadline can answer this caller while the store is slow. Per
     * aggregate the order is the same either way. A handler is never interrupted: one that runs past the deadline on
     * this thread holds it until it returns, and the caller is then told its outcome is unknown.
     *
     * @param command the command object
     * @param timeout how long to wait, waiting for capacity and retries included; more than zero
     * @param <R>     the handler's result type
     * @return the handler's result
     * @throws CommandTimeoutException   when the deadline passed first: not executed, or outcome unknown
     * @throws CommandExecutionException wrapping a checked exception of the handler
     * @throws RuntimeException          the handler's unchecked exception, or a Gyre exception, as it is
     */
    <R> R sendAndWait(Object command, Duration timeout);

    /**
     * Sends a prepared command message and waits for its result; see {@link #send(CommandMessage, Duration)}.
     *
     * @param message the command message
     * @param timeout how long to wait; more than zero
     * @param <R>     the handler's result type
     * @return the handler's result
     * @throws CommandTimeoutException   when the deadline passed first: not executed, or outcome unknown
     * @throws CommandExecutionException wrapping a checked exception of the handler
     * @throws RuntimeException          the handler's unchecked exception, or a Gyre exception, as it is
     */
    <R> R sendAndWait(CommandMessage message, Duration timeout);
}
