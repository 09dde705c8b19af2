package io.gyre.command;

import java.util.concurrent.CompletableFuture;

/**
 * Delivers a command to its handler and its outcome back. Implementations: {@link LocalCommandBus} (this
 * node), the distributed bus of {@code gyre-routing} (the owner on the consistent-hash ring), and decorators
 * such as {@link RetryingCommandBus}.
 */
public interface CommandBus extends AutoCloseable {

    /**
     * Sends a command. Never throws: every failure, including refusal, completes the returned future
     * exceptionally.
     *
     * @param command the command
     * @return the handler's result, or its failure
     */
    CompletableFuture<Object> dispatch(CommandMessage command);

    /**
     * Called once by the {@link io.gyre.Gyre} node before the first dispatch, handing over the node's local
     * handlers. A bus that routes commands to other nodes runs the commands it owns through
     * {@link CommandBusContext#localBus()}. The default does nothing.
     *
     * @param context the node's local side
     */
    default void start(CommandBusContext context) {
    }

    /** Stops taking commands, finishes the ones accepted, releases resources; idempotent. */
    @Override
    default void close() {
    }
}
