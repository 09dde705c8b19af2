package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.PayloadTooLargeException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Writes one decision in a transaction of its own and reports its outcome precisely. Internal: not part of
 * Gyre's API.
 *
 * <p>A decision that is one statement ({@link DecisionRows#singleStatement}) runs with auto-commit, one round trip;
 * others run in a transaction. Either way the stream head it was decided on is checked by the statement that
 * inserts its command row, and a decision that may not be stored writes nothing. Every write commits before it
 * returns: a data source that hands out connections without auto-commit (common under Spring or JPA) would
 * otherwise roll an acknowledged append back when the connection returns to its pool.
 *
 * <p>What the database would refuse for its size is refused here first, without a round trip
 * ({@link #checkSizes}): such input can never be stored, so it must fail as non-transient at once rather than be
 * retried.
 */
public final class Appender {

    /** The longest event id, in characters: ids are keys of a unique index, whose entries the database bounds. */
    public static final int MAX_EVENT_ID_LENGTH = 255;

    private final Connections connections;
    private final DecisionRows rows;
    private final GlobalLog log;
    private final ConflictDiagnosis diagnosis;
    private final Failures failures;
    private final long maxEventBytes;

    /**
     * @param connections   where connections come from
     * @param rows          writes a decision's rows
     * @param log           the global log, which appends enter and leave around their transaction
     * @param diagnosis     tells why a decision was refused
     * @param failures      translates driver errors
     * @param maxEventBytes the largest payload plus metadata of one event, in UTF-8 bytes
     */
    public Appender(Connections connections, DecisionRows rows, GlobalLog log, ConflictDiagnosis diagnosis,
                    Failures failures, long maxEventBytes) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.rows = Objects.requireNonNull(rows, "rows");
        this.log = Objects.requireNonNull(log, "log");
        this.diagnosis = Objects.requireNonNull(diagnosis, "diagnosis");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.maxEventBytes = maxEventBytes;
    }

    /**
     * @param request a decision
     * @return what it is, for messages: the command, its events or outcome, and its stream
     */
    public static String describe(AppendRequest request) {
        if (request.decisionOnly()) {
            return "Recording the " + (request.outcome() instanceof CommandOutcome.Refusal ? "refusal" : "result")
                    + " without events of command " + request.commandId() + " for " + request.stream()
                    + " (decided at " + request.expected() + ")";
        }
        return "Appending " + request.events().size() + " event(s) of command " + request.commandId() + " to "
                + request.stream();
    }

    /**
     * Refuses what the database could never store for its size: an event over {@code maxEventBytes}, or an event
     * id too long for its unique index (PostgreSQL refuses an index entry over about 2,700 bytes). Aggregate
     * types, ids and command ids are bounded by the SPI already.
     *
     * @param request a decision
     * @throws PayloadTooLargeException when one of its events is over the limit
     * @throws EventRejectedException   when an event id is too long
     */
    public void checkSizes(AppendRequest request) {
        for (EventData event : request.events()) {
            if (event.eventId().length() > MAX_EVENT_ID_LENGTH || event.eventId().isBlank()) {
                throw new EventRejectedException(describe(request) + " refused: event " + event.type() + " has an id "
                        + "of " + event.eventId().length() + " characters ('" + abbreviate(event.eventId())
                        + "'), but event ids must be 1 to " + MAX_EVENT_ID_LENGTH + " characters and not blank", null);
            }
            long chars = (long) event.payload().length() + event.metadata().length();
            // A char takes at most 3 UTF-8 bytes; count exactly only when the quick bound is over the limit.
            if (chars * 3 > maxEventBytes) {
                long bytes = (long) event.payload().getBytes(StandardCharsets.UTF_8).length
                        + event.metadata().getBytes(StandardCharsets.UTF_8).length;
                if (bytes > maxEventBytes) {
                    throw new PayloadTooLargeException(request.aggregateId(), event.type(), bytes, maxEventBytes);
                }
            }
        }
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 37) + "...";
    }

    /**
     * Writes a decision on a connection of its own.
     *
     * @param request the decision
     * @throws RuntimeException its refusal or failure
     */
    public void writeAlone(AppendRequest request) {
        try (Connection connection = connections.open()) {
            writeAlone(connection, request);
        } catch (SQLException e) {
            throw failures.of(describe(request), e);
        }
    }

    /**
     * Writes a decision in a transaction of its own on the connection.
     *
     * @param connection a connection outside a transaction
     * @param request    the decision
     * @throws RuntimeException its refusal or failure
     */
    public void writeAlone(Connection connection, AppendRequest request) {
        writeAlone(connection, request, null);
    }

    /**
     * Writes a decision in a transaction of its own on the connection, bounded by a waiting caller's deadline
     * ({@link CallerDeadline}).
     *
     * @param connection a connection outside a transaction
     * @param request    the decision
     * @param deadline   the caller's, or null for no bound
     * @throws RuntimeException its refusal or failure; a write cancelled at the deadline is rolled back, not stored
     */
    public void writeAlone(Connection connection, AppendRequest request, @Nullable Deadline deadline) {
        boolean stored;
        boolean entered = !request.decisionOnly();
        if (entered) {
            log.enterAppend();
        }
        StatementCache statements = new StatementCache(connections, connection, deadline);
        try {
            stored = writeInTransaction(statements, request);
        } catch (SQLException e) {
            if (statements.cutAtDeadline(e)) {
                throw CallerDeadline.notStored(describe(request), e);
            }
            if (CallerDeadline.isCancel(e) && !statements.cancelledByBound(e)) {
                throw CallerDeadline.cancelledByDatabase(describe(request), e);
            }
            statements.close();
            throw diagnosis.refused(connection, request, e);
        } finally {
            statements.close();
            if (entered) {
                log.leaveAppend();
            }
        }
        if (!stored) {
            throw diagnosis.notStored(connection, request);
        }
    }

    private boolean writeInTransaction(StatementCache statements, AppendRequest request) throws SQLException {
        Connection connection = statements.connection();
        boolean autoCommit = connection.getAutoCommit();
        if (autoCommit && rows.singleStatement(request) != null) {
            return rows.write(statements, request);
        }
        if (autoCommit) {
            connection.setAutoCommit(false);
        }
        try {
            boolean stored = rows.write(statements, request);
            if (stored) {
                connection.commit();
            } else {
                connection.rollback();
            }
            return stored;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        } finally {
            if (autoCommit) {
                connection.setAutoCommit(true);
            }
        }
    }
}
