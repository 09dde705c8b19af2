package io.gyre.command;

import io.gyre.GyreTransientException;

/**
 * This node is shutting down or closed and takes no new commands; nothing of the command was run. Transient: send it
 * through another node of the cluster (the closing node's own gateway does not retry it).
 */
public class CommandBusClosedException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the bus and the command
     */
    public CommandBusClosedException(String message) {
        super(message);
    }
}
