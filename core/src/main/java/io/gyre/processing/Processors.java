package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The event processors of a node ({@code node.processors()}): their status, and the commands that act on them.
 * Commands act on the segments this node runs; in a cluster, a segment another node runs is left to that node.
 * Thread-safe.
 */
public interface Processors {

    /** @return the status of every processor, in the order they were registered */
    List<ProcessorStatus> status();

    /**
     * @param processor a processor's name
     * @return its status
     * @throws IllegalArgumentException when no processor has that name; the message lists the names
     */
    ProcessorStatus status(String processor);

    /**
     * Resets a tracking processor to the start of the log, to rebuild its read model: its segments stop, its
     * {@link ResetHandler @ResetHandler} methods clear the read model, every token moves to the start, its dead
     * letters are dropped, and its segments replay the log.
     *
     * <p>A reset runs on a node that runs every segment of the processor. With {@link Delivery#transactional
     * transactional delivery} the read model is cleared and the tokens move in one transaction, so a reset happens
     * whole or not at all. With at-least-once delivery it cannot be atomic: when another member takes a segment while
     * the reset handlers run (a member joining), that segment's token cannot move, the returned future fails saying
     * so, and the read model lacks that segment's earlier events until the processor is reset again.
     *
     * @param processor a tracking processor's name
     * @return completes when the tokens have moved (the replay then runs on its own), or fails with the reason:
     *         this node does not run every segment, or a reset handler threw (then nothing moved)
     */
    default CompletableFuture<Void> reset(String processor) {
        return reset(processor, TrackingToken.START);
    }

    /**
     * Resets a tracking processor to a place in the log: as {@link #reset(String)}, but it replays the events after
     * {@code after} only.
     *
     * @param processor a tracking processor's name
     * @param after     the token of the last event not to replay
     * @return completes when the tokens have moved, or fails with the reason
     */
    CompletableFuture<Void> reset(String processor, TrackingToken after);

    /**
     * Handles a processor's dead letters again, on the segments this node runs, each aggregate's in order: a letter
     * that succeeds is removed; one that fails again stays, with its aggregate's later letters behind it. A segment
     * the token store has given to another node meanwhile leaves its letters to that node.
     *
     * <p>What can repeat: a transactional processor whose dead letters live in its transactions' database (a
     * {@code JdbcProcessingStore} that is both) removes a letter in the transaction of its handler's writes, so a
     * retried event is applied once whatever fails. Otherwise (at least once, or a dead-letter store of its own) a
     * letter is removed after its handler returned, and when that removal fails, the next retry runs the handler
     * with the event again.
     *
     * @param processor a processor's name
     * @return what the retry did; fails with a {@link io.gyre.GyreTransientException} when a store failed during the
     *         retry or a segment stopped before it could retry, and the letters not handled stay for the next retry
     */
    CompletableFuture<DeadLetterRetry> retryDeadLetters(String processor);

    /**
     * Restarts the stopped segments of a processor on this node: each tries its failing event again.
     *
     * @param processor a processor's name
     */
    void resume(String processor);
}
