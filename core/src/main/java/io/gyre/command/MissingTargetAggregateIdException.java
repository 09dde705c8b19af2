package io.gyre.command;

import io.gyre.GyreNonTransientException;

/**
 * A command does not name its aggregate: its type has no {@link TargetAggregateId} member, or the member's
 * value is null or blank. Such a command cannot be routed and is refused before it is sent.
 */
public class MissingTargetAggregateIdException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the command type and the member
     */
    public MissingTargetAggregateIdException(String message) {
        super(message);
    }
}
