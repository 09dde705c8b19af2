package io.gyre.routing;

import io.gyre.GyreTransientException;

/**
 * A member refused a command for a key it does not own in its current ring, or no longer owns by the time the
 * command's turn came. Transient: the sender's ring was older or newer than the receiver's, and the command is
 * re-routed once the rings agree.
 */
public class NotOwnerException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the member, the key and the ring versions
     */
    public NotOwnerException(String message) {
        super(message);
    }
}
