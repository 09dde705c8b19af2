package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * The database does not hold the schema the event store relies on, so it refuses to start on it: a table, column,
 * unique key or index is missing, a column has another type, default or NULL-ability, a column the store never
 * writes must not be NULL, the database was migrated by a newer Gyre, or a schema version was applied from a file
 * that has changed since. Also thrown when the database refused a statement as malformed, or holds data a schema
 * migration cannot carry over. The message names everything at fault and how to fix it. Non-transient.
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
