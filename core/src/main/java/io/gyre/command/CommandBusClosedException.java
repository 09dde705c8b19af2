package io.gyre.command;

import io.gyre.GyreTransientException;

/**
 * The command bus is shutting down or closed and takes no new commands. Transient: in a cluster another
 * member takes over the command.
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
