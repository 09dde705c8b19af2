package io.gyre.command;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Runs one command on the node that owns its aggregate.
 *
 * <p>A handler that waits for I/O (an event store writing its events) implements {@link #handleAsync} as well, so
 * that the bus's worker runs other aggregates while it waits; the bus calls only {@link #handleAsync}, whose
 * default runs {@link #handle} on the worker.
 */
@FunctionalInterface
public interface CommandHandlerFunction {

    /**
     * @param command the command
     * @return the result for the sender, possibly null
     * @throws Exception the failure for the sender
     */
    @Nullable Object handle(CommandMessage command) throws Exception;

    /**
     * Starts a command on a worker of the bus and returns when the worker is free, not when the command is done.
     * The command's aggregate stays taken until the stage completes: the bus starts the aggregate's next command
     * only then, so whatever this command left behind (a cached aggregate) is what the next one sees. The bus
     * completes the command's delivery, and frees its capacity, with the stage's outcome.
     *
     * <p>The stage may complete on any thread, such as an event store's writer. Work that continues the command
     * after a wait (deciding again after a conflict, running user code) must go to {@code workers}, never run on
     * the thread that completed what it waited for.
     *
     * @param command the command
     * @param workers runs tasks on the bus's worker threads; inside the command's turn, since the aggregate stays
     *                taken until the stage completes. Once the bus has stopped it refuses tasks
     *                ({@link java.util.concurrent.RejectedExecutionException}): the stage must then complete at once,
     *                with a failure that says whether the command may have been stored.
     * @return the result for the sender, possibly null, or its failure; never null itself
     */
    default CompletionStage<@Nullable Object> handleAsync(CommandMessage command, Executor workers) {
        try {
            return CompletableFuture.completedFuture(handle(command));
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
