package io.gyre.routing;

import io.gyre.GyreTransientException;

/**
 * The member a command was sent to left the cluster (gracefully, or it crashed) before answering. Transient: the
 * command is re-sent to the new owner with the same command id, and if the member had stored the command's
 * events before leaving, the new owner finds them and answers with the stored result instead of running it
 * again.
 */
public class MemberLeftException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the member and the command
     */
    public MemberLeftException(String message) {
        super(message);
    }
}
