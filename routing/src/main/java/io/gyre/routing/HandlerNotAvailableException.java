package io.gyre.routing;

import io.gyre.GyreTransientException;

/**
 * The member that owns the command's aggregate has no handler for the command's type, while another member has
 * one: a rolling upgrade is in progress, and the owner still runs the older version. The command did not run. Also
 * when the owner knows no member that handles the type but the membership has not settled (the owner has not heard
 * from every member yet, or the sender knows a handler the owner does not): "no member handles it" is not known
 * while members disagree.
 * Transient: the gateway retries it until its deadline, and it runs as soon as the owner is upgraded (or ownership
 * moves to an upgraded member). A command type is never routed to another member than its aggregate's owner,
 * which would let two members decide on one aggregate.
 */
public class HandlerNotAvailableException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command type, the aggregate, the owner and the members that do handle it
     */
    public HandlerNotAvailableException(String message) {
        super(message);
    }
}
