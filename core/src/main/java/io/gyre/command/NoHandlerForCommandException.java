package io.gyre.command;

import io.gyre.GyreNonTransientException;

/** No aggregate registered on this node (or, in a cluster, on any member) handles the command's type. */
public class NoHandlerForCommandException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command type and what is known instead
     */
    public NoHandlerForCommandException(String message) {
        super(message);
    }
}
