package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.ProcessingTransaction;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transaction of a transactional processor on a pooled connection: handlers write through a
 * {@link GuardedConnection guarded} view of it, the token is updated (fenced) on it, and it commits both or neither.
 * {@link #close()} rolls back what was not committed and gives the connection back in the auto-commit mode it came
 * in; it may be called more than once. Internal: not part of Gyre's API.
 */
public final class JdbcProcessingTransaction implements ProcessingTransaction {

    private static final Logger log = LoggerFactory.getLogger(JdbcProcessingTransaction.class);

    private final Connection connection;
    private final Connection guarded;
    private final boolean autoCommit;
    private final JdbcTokens tokens;
    private boolean committed;
    private boolean closed;

    /**
     * @param connection a connection from the pool; the transaction owns and closes it
     * @param tokens     the token store on the same database
     * @throws SQLException when auto-commit cannot be turned off
     */
    public JdbcProcessingTransaction(Connection connection, JdbcTokens tokens) throws SQLException {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
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
            throw SqlErrors.translate("Storing token " + token + " of segment " + segment + " of processor '"
                    + processor + "' with its handlers' writes", e);
        }
    }

    @Override
    public void commit() {
        try {
            connection.commit();
            committed = true;
        } catch (SQLException e) {
            throw SqlErrors.translate("Committing a transaction of a processor's handlers and token", e);
        }
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
