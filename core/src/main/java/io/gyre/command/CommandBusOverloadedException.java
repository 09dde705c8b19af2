package io.gyre.command;

import io.gyre.GyreTransientException;

/**
 * The command bus already holds as many accepted, unfinished commands as it is configured to; the command was
 * refused at once instead of queueing without bound. Transient: the gateway retries after a back-off.
 */
public class CommandBusOverloadedException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the limit and how to raise it
     */
    public CommandBusOverloadedException(String message) {
        super(message);
    }
}
