package io.gyre.command;

import io.gyre.GyreNonTransientException;

/**
 * Carries a checked exception a command handler threw out of {@link CommandGateway#sendAndWait}; unchecked
 * exceptions from handlers are thrown as they are.
 */
public class CommandExecutionException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command
     * @param cause   the handler's checked exception
     */
    public CommandExecutionException(String message, Throwable cause) {
        super(message, cause);
    }
}
