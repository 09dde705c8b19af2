package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Writes the rows of one decision in whatever transaction the connection is in, and tells whether they were
 * written: its command row and its events, only on the stream head it was decided on and only if its command id is
 * not decided yet ({@link Statements}). A decision the head or the command id forbids writes nothing and fails
 * nothing: it is reported as not written, so it never aborts a transaction it shares with others (on H2, a command
 * id decided by a transaction that commits after the head was read fails the insert with a unique violation).
 * Internal: not part of Gyre's API.
 *
 * <p>On PostgreSQL a decision of up to {@link #MAX_ROWS_PER_STATEMENT} events is one statement, which a group
 * batches with others of the same shape ({@link #singleStatement}); larger ones take a statement per further chunk
 * of events. On H2 a decision is a read of its stream's head, its command row, and its events.
 */
public final class DecisionRows {

    /** Events per INSERT statement; above it a command's events are inserted by several, in one transaction. */
    public static final int MAX_ROWS_PER_STATEMENT = 500;

    private final Statements sql;

    /** @param sql the statements of the store's tables and dialect */
    public DecisionRows(Statements sql) {
        this.sql = Objects.requireNonNull(sql, "sql");
    }

    /**
     * @param request a decision
     * @return the one statement that writes it, or null when it takes several (on H2, or with more events than
     *         one statement holds)
     */
    public @Nullable String singleStatement(AppendRequest request) {
        if (!sql.postgres()) {
            return null;
        }
        boolean noStream = request.expected().lastSequence() < 0;
        if (request.decisionOnly()) {
            return sql.insertCommandOnHead(noStream);
        }
        if (request.events().size() <= MAX_ROWS_PER_STATEMENT) {
            return sql.insertCommandWithEvents(noStream, request.events().size());
        }
        return null;
    }

    /**
     * Binds a decision to its {@link #singleStatement}.
     *
     * @param statement the prepared single statement
     * @param request   the decision
     * @throws SQLException when the driver refuses a value
     */
    public void bindSingle(PreparedStatement statement, AppendRequest request) throws SQLException {
        int next = Statements.bindCommandOnHead(statement, 1, request);
        if (!request.decisionOnly()) {
            sql.bindEvents(statement, next, request, request.events(), request.expected().lastSequence());
        }
    }

    /**
     * @param request     a decision
     * @param updateCount what its {@link #singleStatement} reported
     * @return true when its rows were written, false when nothing was
     * @throws IllegalStateException when the count is neither (a driver that does not report counts of a batch)
     */
    public boolean written(AppendRequest request, int updateCount) {
        int rows = request.decisionOnly() ? 1 : request.events().size();
        if (updateCount == rows) {
            return true;
        }
        if (updateCount == 0) {
            return false;
        }
        throw new IllegalStateException(Appender.describe(request) + ": the database reported " + updateCount
                + (updateCount == Statement.SUCCESS_NO_INFO ? " (no information)" : "") + " rows written instead of "
                + rows + " or 0; the store relies on exact update counts (do not rewrite batched statements)");
    }

    /**
     * Writes a decision's rows, however many statements they take.
     *
     * @param statements where statements are prepared, on the connection in use
     * @param request    the decision
     * @return true when written, false when its stream head or its command id forbade it (nothing was written)
     * @throws SQLException when the database refuses a statement (the transaction may then hold part of the
     *                      decision: roll it back)
     */
    public boolean write(StatementCache statements, AppendRequest request) throws SQLException {
        String single = singleStatement(request);
        if (single != null) {
            PreparedStatement statement = statements.get(single);
            bindSingle(statement, request);
            return written(request, statement.executeUpdate());
        }
        List<EventData> events = request.events();
        long before = request.expected().lastSequence();
        int first;
        if (sql.postgres()) {
            first = MAX_ROWS_PER_STATEMENT;
            PreparedStatement head = statements.get(sql.insertCommandWithEvents(before < 0, first));
            int next = Statements.bindCommandOnHead(head, 1, request);
            sql.bindEvents(head, next, request, events.subList(0, first), before);
            if (head.executeUpdate() == 0) {
                return false;
            }
        } else {
            first = 0;
            PreparedStatement query = statements.get(sql.streamHead());
            Statements.bindStreamHead(query, request);
            try (ResultSet rows = query.executeQuery()) {
                if (!Statements.headIsExpected(rows, request)) {
                    return false;
                }
            }
            PreparedStatement command = statements.get(sql.insertCommand());
            Statements.bindCommandRow(command, 1, request);
            command.executeUpdate();
        }
        for (int from = first; from < events.size(); from += MAX_ROWS_PER_STATEMENT) {
            List<EventData> chunk = events.subList(from, Math.min(events.size(), from + MAX_ROWS_PER_STATEMENT));
            PreparedStatement insert = statements.get(sql.insertEvents(chunk.size()));
            sql.bindEvents(insert, 1, request, chunk, before + from);
            insert.executeUpdate();
        }
        return true;
    }
}
