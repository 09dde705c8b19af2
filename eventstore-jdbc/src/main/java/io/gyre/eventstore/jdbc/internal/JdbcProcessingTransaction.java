package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.HandlerTransactionAbortedException;
import io.gyre.processing.ProcessingTransaction;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transaction of a transactional processor on a pooled connection: handlers write through a
 * {@link GuardedConnection guarded} view of it, the token is updated (fenced) on it, dead letters are added or removed
 * on it, and it commits all or nothing.
 * {@link #close()} rolls back what was not committed and gives the connection back in the auto-commit mode it came
 * in; it may be called more than once. Internal: not part of Gyre's API.
 */
public final class JdbcProcessingTransaction implements ProcessingTransaction {

    private static final Logger log = LoggerFactory.getLogger(JdbcProcessingTransaction.class);
    /** PostgreSQL's "current transaction is aborted, commands ignored until end of transaction block". */
    private static final String IN_FAILED_TRANSACTION = "25P02";

    private final Connection connection;
    private final Connection guarded;
    private final boolean autoCommit;
    private final JdbcTokens tokens;
    private final JdbcDeadLetters deadLetters;
    private boolean committed;
    private boolean closed;

    /**
     * @param connection a connection from the pool; the transaction owns and closes it
     * @param tokens      the token store on the same database
     * @param deadLetters the dead-letter store on the same database
     * @throws SQLException when auto-commit cannot be turned off
     */
    public JdbcProcessingTransaction(Connection connection, JdbcTokens tokens, JdbcDeadLetters deadLetters)
            throws SQLException {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
        this.autoCommit = connection.getAutoCommit();
        if (autoCommit) {
            connection.setAutoCommit(false);
        }
        this.guarded = GuardedConnection.of(connection);
    }

    @Override
    public Object resource() {
        return guarded;
    }

    @Override
    public void updateToken(String processor, int segment, String owner, long epoch, TrackingToken token) {
        try {
            tokens.update(connection, processor, segment, owner, epoch, token);
        } catch (SQLException e) {
            throw failure("Storing token " + token + " of segment " + segment + " of processor '"
                    + processor + "' with its handlers' writes", e);
        }
    }

    @Override
    public void fence(String processor, int segment, String owner, long epoch) {
        try {
            tokens.fence(connection, processor, segment, owner, epoch);
        } catch (SQLException e) {
            throw failure("Checking that '" + owner + "' still holds segment " + segment + " of processor '"
                    + processor + "' at epoch " + epoch + " before committing its handlers' writes", e);
        }
    }

    @Override
    public void addDeadLetter(DeadLetter letter) {
        try {
            deadLetters.add(connection, letter);
        } catch (SQLException e) {
            throw failure("Adding a dead letter of processor '" + letter.processor() + "' for event "
                    + letter.event().eventId() + " in a transaction with its token", e);
        }
    }

    @Override
    public void removeDeadLetter(String processor, String eventId) {
        try {
            deadLetters.remove(connection, processor, eventId);
        } catch (SQLException e) {
            throw failure("Removing the dead letter of processor '" + processor + "' for event " + eventId
                    + " in a transaction with its retried handler's writes", e);
        }
    }

    @Override
    public void commit() {
        try {
            connection.commit();
            committed = true;
        } catch (SQLException e) {
            throw failure("Committing a transaction of a processor's handlers and token", e);
        }
    }

    /**
     * A statement of this transaction failed. When a handler's failed statement left the transaction aborted (SQLState
     * 25P02 on PostgreSQL) the failure is the handlers', which the processor then finds and treats as a handler
     * failure; otherwise it is the store's.
     */
    private static RuntimeException failure(String operation, SQLException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && IN_FAILED_TRANSACTION.equals(sql.getSQLState())) {
                return new HandlerTransactionAbortedException(operation + " failed: a statement of the transaction's "
                        + "handlers failed and aborted it, though the handler returned normally (" + e.getMessage()
                        + "); recover inside the handler with INSERT ... ON CONFLICT or a savepoint, not by catching "
                        + "the error", e);
            }
        }
        return SqlErrors.translate(operation, e);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!committed) {
                connection.rollback();
            }
            if (autoCommit) {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            log.debug("Rolling back a processor's transaction failed; the connection is closed anyway", e);
        } finally {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("Closing a processor's connection failed", e);
            }
        }
    }
}
