package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * The database lacks what the event store needs (a table, a column, the unique key on aggregate id and sequence
 * number) or refused a statement as malformed. The message names what is missing and how to create it.
 */
public class EventStoreSchemaException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the tables and columns at fault
     * @param cause   the driver's error, if any
     */
    public EventStoreSchemaException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
