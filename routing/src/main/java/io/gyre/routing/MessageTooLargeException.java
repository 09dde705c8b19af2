package io.gyre.routing;

import io.gyre.GyreNonTransientException;

/** A command or reply is larger than the cluster's configured message limit; it was not sent or not accepted. */
public class MessageTooLargeException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command, its size and the limit
     */
    public MessageTooLargeException(String message) {
        super(message);
    }
}
