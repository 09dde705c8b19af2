package io.gyre.eventstore;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * The store refused events for what they are: too large, or data the database cannot hold (malformed JSON,
 * characters its encoding cannot store). Nothing was appended, and trying again with the same events cannot
 * help.
 */
public class EventRejectedException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the aggregate, the event type and what is wrong
     * @param cause   the database's error, if any
     */
    public EventRejectedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
