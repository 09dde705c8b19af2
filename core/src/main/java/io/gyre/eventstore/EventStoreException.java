package io.gyre.eventstore;

import io.gyre.GyreTransientException;
import org.jspecify.annotations.Nullable;

/**
 * The store could not be reached or failed while reading or appending. Transient: nothing of a failed append
 * is visible, so the command can be retried once the store is back.
 */
public class EventStoreException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, with the state that explains it
     * @param cause   the driver's error
     */
    public EventStoreException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
