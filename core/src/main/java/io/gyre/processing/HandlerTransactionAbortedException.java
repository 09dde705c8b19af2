package io.gyre.processing;

import io.gyre.GyreNonTransientException;

/**
 * A transactional processor's transaction could not store its token or commit because a statement of one of its
 * handlers failed inside it, although the handler returned normally: on PostgreSQL a failed statement aborts the
 * whole transaction ("current transaction is aborted"), so catching the SQL error in the handler (an "insert, and on a
 * duplicate key update" written the H2 way) does not undo it. It is the handlers' failure, not the database's: the
 * processor finds the failing event by handling the batch's events one per transaction, and the event then meets the
 * processor's {@link ErrorPolicy} like any handler exception. Use {@code INSERT ... ON CONFLICT} or a savepoint in the
 * handler to recover from a failed statement.
 */
public class HandlerTransactionAbortedException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what could not be done, and why
     * @param cause   the driver's error
     */
    public HandlerTransactionAbortedException(String message, Throwable cause) {
        super(message, cause);
    }
}
