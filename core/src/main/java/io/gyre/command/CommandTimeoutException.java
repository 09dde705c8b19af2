package io.gyre.command;

import io.gyre.GyreTransientException;

/**
 * A command got no answer within the caller's deadline. The command may still run: send it again with the same
 * command id to be sure it runs at most once.
 */
public class CommandTimeoutException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command and the deadline
     */
    public CommandTimeoutException(String message) {
        super(message);
    }
}
