package io.gyre.routing.jgroups;

import io.gyre.GyreNonTransientException;

/**
 * A node could not join its cluster when it started: the transport could not bind, discovery found too few
 * members before the start timeout, or JGroups refused the stack. Non-transient: the settings must change (or the
 * missing members must come up) before starting again. The message names the settings that were tried; the cause
 * is JGroups' own error, when there is one.
 */
public class ClusterJoinException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the member, the cluster and the discovery settings tried
     * @param cause   the underlying failure, or null
     */
    public ClusterJoinException(String message, Throwable cause) {
        super(message, cause);
    }
}
