package io.gyre.routing;

import io.gyre.GyreTransientException;

/**
 * A member refused a command for an aggregate it does not own in its current ring, or no longer owns by the time
 * the command's turn came; the command did not run there. Transient: the sender's ring was older or newer than the
 * receiver's, and the command is re-routed once the rings agree. The receiver's ring version, when known, lets the
 * sender tell whose ring is behind.
 */
public class NotOwnerException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /** The ring version when the refusing member did not say it. */
    public static final long UNKNOWN_VERSION = -1;

    private final long ringVersion;

    /**
     * @param message names the member, the aggregate and the ring versions
     */
    public NotOwnerException(String message) {
        this(message, UNKNOWN_VERSION);
    }

    /**
     * @param message     names the member, the aggregate and the ring versions
     * @param ringVersion the refusing member's ring version, or {@link #UNKNOWN_VERSION}
     */
    public NotOwnerException(String message, long ringVersion) {
        super(message);
        this.ringVersion = ringVersion;
    }

    /** @return the refusing member's ring version, or {@link #UNKNOWN_VERSION} */
    public long ringVersion() {
        return ringVersion;
    }
}
