package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * The database lacks what the event store needs (a table, a column, the unique key on aggregate type, id and
 * sequence number or on aggregate type, id and command id), refused a statement as malformed, or holds data a
 * schema migration cannot carry over. The message names what is wrong and how to fix it.
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
