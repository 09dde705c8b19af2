package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.EventStoreException;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * The database could not be reached or failed (connection lost, timeout, server shutting down, serialization
 * failure). Transient: nothing of a failed append is visible, and the command is retried once the database
 * answers. Carries the driver's SQLState.
 */
public class JdbcEventStoreException extends EventStoreException {

    private static final long serialVersionUID = 1L;

    private final @Nullable String sqlState;

    /**
     * @param message what failed, with the state that explains it
     * @param cause   the driver's error
     */
    public JdbcEventStoreException(String message, SQLException cause) {
        super(message + " (SQLState " + cause.getSQLState() + "): " + cause.getMessage(), cause);
        this.sqlState = cause.getSQLState();
    }

    /** @return the driver's SQLState, or null when it gave none */
    public @Nullable String sqlState() {
        return sqlState;
    }
}
