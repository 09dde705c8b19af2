package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.PayloadTooLargeException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;

/**
 * Writes one decision in a transaction of its own and reports its outcome precisely. Internal: not part of
 * Gyre's API.
 *
 * <p>A decision with events is its command row and its event rows, atomically: on PostgreSQL up to
 * {@link #MAX_ROWS_PER_STATEMENT} events in one statement (the command row in a data-modifying WITH clause), which
 * with auto-commit is one round trip; on H2, and above that many events, several statements in one transaction.
 * A decision without events is one conditional insert of its command row, which inserts nothing when the stream
 * has moved. Every write commits before it returns: a data source that hands out connections without auto-commit
 * (common under Spring or JPA) would otherwise roll an acknowledged append back when the connection returns to its
 * pool.
 */
public final class Appender {

    /** Events per INSERT statement; above it a command's events are inserted by several, in one transaction. */
    public static final int MAX_ROWS_PER_STATEMENT = 500;

    private final Connections connections;
    private final GlobalLog log;
    private final ConflictDiagnosis diagnosis;
    private final Failures failures;
    private final long maxEventBytes;

    /**
     * @param connections   where connections come from
     * @param log           the global log, which appends enter and leave around their transaction
     * @param diagnosis     tells why a decision was refused
     * @param failures      translates driver errors
     * @param maxEventBytes the largest payload plus metadata of one event, in UTF-8 bytes
     */
    public Appender(Connections connections, GlobalLog log, ConflictDiagnosis diagnosis, Failures failures,
                    long maxEventBytes) {
        this.connections = Objects.requireNonNull(connections, "connections");
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
     * @param request a decision
     * @throws PayloadTooLargeException when one of its events is over the limit
     */
    public void checkSizes(AppendRequest request) {
        for (EventData event : request.events()) {
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

    /**
     * @param request a decision with events, expecting an event this store has not seen
     * @throws RuntimeException the duplicate, conflict or failure when it must not be written
     */
    public void checkExpectedEventExists(AppendRequest request) {
        try (Connection connection = connections.open()) {
            diagnosis.checkExpectedEventExists(connection, request);
        } catch (SQLException e) {
            throw failures.of(describe(request), e);
        }
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
        if (request.decisionOnly()) {
            writeDecisionAlone(connection, request);
            return;
        }
        SQLException refused;
        log.enterAppend();
        try {
            insertWithEvents(connection, request);
            return;
        } catch (SQLException e) {
            refused = e;
        } finally {
            log.leaveAppend();
        }
        if (SqlErrors.isUniqueViolation(refused)) {
            throw diagnosis.uniqueKeyRefused(connection, request, refused);
        }
        throw failures.of(describe(request), refused);
    }

    private void writeDecisionAlone(Connection connection, AppendRequest request) {
        boolean stored;
        try {
            stored = insertDecision(connection, request);
        } catch (SQLException e) {
            if (SqlErrors.isUniqueViolation(e)) {
                throw diagnosis.uniqueKeyRefused(connection, request, e);
            }
            throw failures.of(describe(request), e);
        }
        if (!stored) {
            throw diagnosis.decisionNotStored(connection, request);
        }
    }

    private void insertWithEvents(Connection connection, AppendRequest request) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        if (autoCommit && connections.postgres() && request.events().size() <= MAX_ROWS_PER_STATEMENT) {
            insertRows(connection, request);
            return;
        }
        if (autoCommit) {
            connection.setAutoCommit(false);
        }
        try {
            insertRows(connection, request);
            connection.commit();
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

    /** The command row, then the events in chunks of at most {@link #MAX_ROWS_PER_STATEMENT}. */
    private void insertRows(Connection connection, AppendRequest request) throws SQLException {
        Statements sql = connections.sql();
        List<EventData> events = request.events();
        long before = request.expected().lastSequence();
        int first = Math.min(events.size(), MAX_ROWS_PER_STATEMENT);
        if (sql.postgres()) {
            try (PreparedStatement insert = connections.prepare(connection, sql.insertCommandWithEvents(first))) {
                Statements.bindEvents(insert, Statements.bindCommand(insert, 1, request), request,
                        events.subList(0, first), before);
                insert.executeUpdate();
            }
        } else {
            try (PreparedStatement insert = connections.prepare(connection, sql.insertCommand())) {
                Statements.bindCommand(insert, 1, request);
                insert.executeUpdate();
            }
            insertEvents(connection, request, events.subList(0, first), before);
        }
        for (int from = first; from < events.size(); from += MAX_ROWS_PER_STATEMENT) {
            insertEvents(connection, request, events.subList(from, Math.min(events.size(),
                    from + MAX_ROWS_PER_STATEMENT)), before + from);
        }
    }

    /** @param before the sequence number just before the chunk's first event */
    private void insertEvents(Connection connection, AppendRequest request, List<EventData> chunk, long before)
            throws SQLException {
        try (PreparedStatement insert = connections.prepare(connection, connections.sql().insertEvents(chunk.size()))) {
            Statements.bindEvents(insert, 1, request, chunk, before);
            insert.executeUpdate();
        }
    }

    /** @return true when stored, false when the stream's last event is no longer the expected one */
    private boolean insertDecision(Connection connection, AppendRequest request) throws SQLException {
        if (connection.getAutoCommit()) {
            return executeDecision(connection, request);
        }
        try {
            boolean stored = executeDecision(connection, request);
            connection.commit();
            return stored;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        }
    }

    /**
     * Runs the conditional insert of a decision without events, in whatever transaction the connection is in.
     *
     * @param connection a connection
     * @param request    a decision without events
     * @return true when its row was inserted, false when its stream had moved
     * @throws SQLException when the database refuses it, a unique violation included
     */
    public boolean executeDecision(Connection connection, AppendRequest request) throws SQLException {
        boolean noStream = request.expected().lastSequence() < 0;
        try (PreparedStatement insert = connections.prepare(connection, connections.sql().insertDecision(noStream))) {
            Statements.bindDecision(insert, request);
            return insert.executeUpdate() == 1;
        }
    }
}
