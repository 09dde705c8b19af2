package io.gyre.processing.internal;

import io.gyre.GyreTransientException;
import io.gyre.processing.DeadLetterRetry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * What other threads ask of one segment worker's loop (a resume, a retry of dead letters), and the end of that loop.
 * A command runs at the start of the loop's next turn, on the loop's own thread, so it never races a handler of the
 * segment; once the loop has ended, the retries it will never run are failed instead of leaving their callers waiting.
 * Internal: not part of Gyre's API.
 */
final class SegmentCommands {

    private final String processor;
    private final int segment;
    private final String owner;
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    /**
     * @param processor the processor's name, for messages
     * @param segment   the segment
     * @param owner     this node, for messages
     */
    SegmentCommands(String processor, int segment, String owner) {
        this.processor = processor;
        this.segment = segment;
        this.owner = owner;
    }

    /** Queues a command for the loop's next turn; the caller then schedules a turn. */
    void add(Runnable command) {
        commands.add(command);
    }

    /**
     * Queues a retry of dead letters for the loop's next turn; the caller then schedules a turn.
     *
     * @param retry what the loop runs
     * @return completes with what the retry did, or with the failure that cut it short; fails when the loop ends
     *         before it runs the retry
     */
    CompletableFuture<DeadLetterRetry> addRetry(Supplier<DeadLetterRetry> retry) {
        CompletableFuture<DeadLetterRetry> result = new CompletableFuture<>();
        commands.add(new RetryCommand(retry, result));
        if (stopped.isDone()) {
            // Stopped while the command was being added: no turn will run it (ended() drained before it came).
            abandon();
        }
        return result;
    }

    /** @return true when a command waits for the loop */
    boolean pending() {
        return !commands.isEmpty();
    }

    /** Runs the commands queued so far, on the loop's thread. */
    void runPending() {
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run();
        }
    }

    /** Records that the loop has ended (or will never run again), and fails the retries it will not run. */
    void ended() {
        stopped.complete(null);
        abandon();
    }

    /** @return true when the loop has ended: none of the segment's handlers runs or will run */
    boolean hasEnded() {
        return stopped.isDone();
    }

    /** @return completes when the loop has ended, after its last handler returned */
    CompletableFuture<Void> whenEnded() {
        return stopped.copy();
    }

    /** Waits for the loop to end. */
    void awaitEnded(Duration timeout) {
        try {
            stopped.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while stopping segment " + segment, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Segment " + segment + " of processor '" + processor + "' did not "
                    + "stop within " + timeout + " (a handler may be stuck)", e);
        }
    }

    /** Fails the retries that an ended loop will never run, instead of leaving their callers waiting. */
    private void abandon() {
        Runnable command;
        while ((command = commands.poll()) != null) {
            if (command instanceof RetryCommand retry) {
                retry.result.completeExceptionally(new GyreTransientException("Segment " + segment + " of processor '"
                        + processor + "' stopped on " + owner + " before it retried its dead letters; retry them "
                        + "again on the node that runs the segment"));
            }
        }
    }

    /** A retry of dead letters for the loop: it completes its future on every path, also when it never runs. */
    private static final class RetryCommand implements Runnable {

        final Supplier<DeadLetterRetry> retry;
        final CompletableFuture<DeadLetterRetry> result;

        RetryCommand(Supplier<DeadLetterRetry> retry, CompletableFuture<DeadLetterRetry> result) {
            this.retry = retry;
            this.result = result;
        }

        @Override
        public void run() {
            try {
                result.complete(retry.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }
    }
}
