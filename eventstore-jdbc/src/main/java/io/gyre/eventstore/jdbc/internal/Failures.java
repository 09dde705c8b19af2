package io.gyre.eventstore.jdbc.internal;

import java.sql.SQLException;

/**
 * Turns a driver error into Gyre's exception of the matching kind ({@link SqlErrors#translate}). A seam of its own
 * so that every collaborator translates the same way. Internal: not part of Gyre's API.
 */
public final class Failures {

    /**
     * @param operation what was being done, naming the stream, command or token involved
     * @param cause     the driver's error
     * @return the exception to throw, with the driver's error as its cause
     */
    public RuntimeException of(String operation, SQLException cause) {
        return SqlErrors.translate(operation, cause);
    }
}
