package io.gyre.command;

/**
 * Delivers a command to its handler and its outcome back. Implementations: {@link LocalCommandBus} (this node) and
 * the distributed bus of {@code gyre-routing} (the owner on the consistent-hash ring).
 *
 * <p>A bus never refuses a command for want of capacity: the command waits, in send order, until there is room or
 * its {@link CommandMessage#deadline() deadline} passes. A bus drops a command whose deadline passed before it ran
 * and fails its delivery with a {@link CommandNotExecutedException}.
 */
public interface CommandBus extends AutoCloseable {

    /**
     * Sends a command. Never throws and never blocks on I/O or capacity: every outcome, refusal included, completes
     * the returned delivery, which also tells whether the command {@linkplain CommandDispatch#mayHaveRun() may have
     * run}. Commands for one aggregate dispatched by one thread reach the aggregate in the order of the calls.
     *
     * @param command the command, with its deadline
     * @return the delivery, completing with the handler's result or its failure
     */
    CommandDispatch dispatch(CommandMessage command);

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
