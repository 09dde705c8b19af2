package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.serialization.SerializedValue;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * The SQL of one event store, built once from its validated table names, and next to it the binding of its
 * parameters and the mapping of its rows; every value is a bind parameter. Internal: not part of Gyre's API.
 *
 * <p>A decision with events is one row in the commands table and one per event in the events table, written
 * atomically: on PostgreSQL by one statement (the command row in a data-modifying WITH clause), so an append stays
 * one round trip; on H2, which runs in the caller's process where a statement costs no round trip, by two
 * statements in one transaction ({@link #insertCommand()}, then {@link #insertEvents(int)}). A decision without
 * events is one conditional insert into the commands table, {@link #insertDecision(boolean)}.
 */
public final class Statements {

    private static final String EVENT_COLUMNS = "aggregate_type, aggregate_id, sequence_number, event_id, "
            + "command_id, event_type, payload, metadata, occurred_at";
    private static final String SELECT_COLUMNS = "global_position, aggregate_type, aggregate_id, sequence_number, "
            + "event_id, command_id, event_type, payload, metadata, occurred_at";
    private static final String COMMAND_COLUMNS = "aggregate_type, aggregate_id, command_id, decided_at, event_count, "
            + "outcome, result_type, result";
    private static final String DECISION_COLUMNS = COMMAND_COLUMNS + ", refusal_type, refusal_message";
    private static final int CACHED_INSERTS = 16;

    /** Parameters per event row: type, id, sequence, event id, command id, event type, payload, metadata, time. */
    public static final int PARAMETERS_PER_EVENT = 9;
    /** Parameters of a command row written with events: type, id, command id, decided at, count, result. */
    public static final int PARAMETERS_PER_COMMAND = 7;

    private final boolean postgres;
    private final String events;
    private final String commands;
    private final String row;
    private final String insertCommand;
    private final String[] inserts = new String[CACHED_INSERTS + 1];
    private final String[] insertsWithCommand = new String[CACHED_INSERTS + 1];

    /**
     * @param postgres true for PostgreSQL, false for H2
     * @param tables   the table names
     */
    public Statements(boolean postgres, TableNames tables) {
        this.postgres = postgres;
        this.events = tables.events();
        this.commands = tables.commands();
        // PostgreSQL's driver sends strings as varchar, which only an explicit cast turns into jsonb.
        this.row = postgres ? "(?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb), ?)"
                : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
        this.insertCommand = "INSERT INTO " + commands + " (" + COMMAND_COLUMNS + ") VALUES (?, ?, ?, ?, ?, 'result', "
                + "?, ?)";
    }

    /**
     * The events of a chunk that does not start a command, or on H2 of any chunk (the command row goes first, by
     * {@link #insertCommand()}). Parameters: {@value #PARAMETERS_PER_EVENT} per event.
     *
     * @param rows events in the statement
     * @return an insert of that many event rows
     */
    public String insertEvents(int rows) {
        return cached(inserts, rows, false);
    }

    /**
     * PostgreSQL: a command's row and its (first) events in one statement. Parameters: the
     * {@value #PARAMETERS_PER_COMMAND} of {@link #insertCommand()}, then {@value #PARAMETERS_PER_EVENT} per event.
     * A unique violation of either table fails the whole statement.
     *
     * @param rows events in the statement
     * @return the statement
     */
    public String insertCommandWithEvents(int rows) {
        if (!postgres) {
            throw new IllegalStateException("H2 has no data-modifying WITH; insert the command row first");
        }
        return cached(insertsWithCommand, rows, true);
    }

    /**
     * The row of a command that stored events, with its result. Parameters: aggregate type, aggregate id,
     * command id, decided at, event count, result type, result (both NULL for no value).
     *
     * @return the statement
     */
    public String insertCommand() {
        return insertCommand;
    }

    private String cached(String[] cache, int rows, boolean withCommand) {
        if (rows <= CACHED_INSERTS) {
            String cached = cache[rows];
            if (cached == null) {
                cached = buildInsert(rows, withCommand);
                cache[rows] = cached;
            }
            return cached;
        }
        return buildInsert(rows, withCommand);
    }

    private String buildInsert(int rows, boolean withCommand) {
        String insertEvents = "INSERT INTO " + events + " (" + EVENT_COLUMNS + ") VALUES " + rows(rows);
        // The WITH clause runs exactly once and to completion although nothing reads it, in the same snapshot
        // and transaction as the events.
        return withCommand ? "WITH command AS (" + insertCommand + ") " + insertEvents : insertEvents;
    }

    private String rows(int rows) {
        StringJoiner joiner = new StringJoiner(", ");
        for (int i = 0; i < rows; i++) {
            joiner.add(row);
        }
        return joiner.toString();
    }

    /**
     * A decision without events, inserted only if the stream's last event is still the one it was decided on:
     * event n exists (unless n is -1, no stream) and event n + 1 does not, checked in the same statement as the
     * insert. It inserts one row, or none when the stream moved. Parameters: aggregate type, aggregate id,
     * command id, decided at (n), outcome ('result' or 'refusal'), result type, result, refusal type, refusal
     * message; then aggregate type, aggregate id, n + 1; then, unless on no stream, aggregate type, aggregate id,
     * n.
     *
     * <p>An append that commits after the statement's snapshot was taken is not seen, and is then ordered after
     * the decision: as if it had come second, which it may have.
     *
     * @param noStream true for a decision on no stream (n = -1), which has no event n to check
     * @return the statement
     */
    public String insertDecision(boolean noStream) {
        String text = postgres ? "text" : "CHARACTER VARYING";
        String select = "SELECT CAST(? AS " + text + "), CAST(? AS " + text + "), CAST(? AS " + text
                + "), CAST(? AS BIGINT), 0, CAST(? AS " + text + "), CAST(? AS " + text + "), CAST(? AS "
                + (postgres ? "text" : "CHARACTER LARGE OBJECT") + "), CAST(? AS " + text + "), CAST(? AS " + text
                + ")";
        String next = "NOT EXISTS (SELECT 1 FROM " + events
                + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = ?)";
        String decided = "EXISTS (SELECT 1 FROM " + events
                + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = ?)";
        return "INSERT INTO " + commands + " (" + DECISION_COLUMNS + ") " + select + " WHERE " + next
                + (noStream ? "" : " AND " + decided);
    }

    /** @return the last sequence number of a stream, NULL when it has none: aggregate type, aggregate id */
    public String lastSequence() {
        return "SELECT MAX(sequence_number) FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?";
    }

    /**
     * @return a command's record, by its key: aggregate type, aggregate id, command id. Columns: decided at,
     *         event count, outcome, result type, result, refusal type, refusal message
     */
    public String findCommand() {
        return "SELECT decided_at, event_count, outcome, result_type, result, refusal_type, refusal_message FROM "
                + commands + " WHERE aggregate_type = ? AND aggregate_id = ? AND command_id = ?";
    }

    /** @return one page of a stream: aggregate type, aggregate id, first sequence, page size */
    public String readStreamPage() {
        return "SELECT " + SELECT_COLUMNS + " FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " AND sequence_number >= ? ORDER BY sequence_number LIMIT ?";
    }

    /**
     * PostgreSQL: the next events of the global log after a token, ordered by the inserting transaction and
     * then position, from transactions older than every transaction still running. Parameters: the token's
     * transaction id (as text), its position, the batch size. The extra last column is the transaction id.
     *
     * @return the statement
     */
    public String readAllPostgres() {
        return "SELECT " + SELECT_COLUMNS + ", CAST(CAST(transaction_id AS text) AS bigint) FROM " + events
                + " WHERE (transaction_id, global_position) > (CAST(? AS xid8), ?)"
                + " AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
                + " ORDER BY transaction_id, global_position LIMIT ?";
    }

    /**
     * H2: the next events of the global log after a position, up to a horizon. Parameters: the position, the
     * horizon, the batch size.
     *
     * @return the statement
     */
    public String readAllH2() {
        return "SELECT " + SELECT_COLUMNS + " FROM " + events
                + " WHERE global_position > ? AND global_position <= ? ORDER BY global_position LIMIT ?";
    }

    /** @return the highest position stored, NULL when empty */
    public String highestPosition() {
        return "SELECT MAX(global_position) FROM " + events;
    }

    /** The outcome column's value for a command that returned. */
    private static final String RESULT = "result";
    /** The outcome column's value for a command that refused. */
    private static final String REFUSAL = "refusal";

    /**
     * Binds the row of a command that stored events to {@link #insertCommand()} or the head of
     * {@link #insertCommandWithEvents(int)}: {@value #PARAMETERS_PER_COMMAND} parameters.
     *
     * @param insert  the statement
     * @param from    the index of the first parameter
     * @param request a decision with events
     * @return the index of the next parameter
     * @throws SQLException when the driver refuses a value
     */
    public static int bindCommand(PreparedStatement insert, int from, AppendRequest request) throws SQLException {
        SerializedValue value = resultOf(request);
        int p = from;
        insert.setString(p++, request.aggregateType());
        insert.setString(p++, request.aggregateId());
        insert.setString(p++, request.commandId());
        insert.setLong(p++, request.expected().lastSequence());
        insert.setInt(p++, request.events().size());
        insert.setString(p++, value == null ? null : value.type());
        insert.setString(p++, value == null ? null : value.data());
        return p;
    }

    /**
     * Binds a chunk of a command's events: {@value #PARAMETERS_PER_EVENT} parameters each.
     *
     * @param insert  the statement
     * @param from    the index of the first parameter
     * @param request the decision
     * @param chunk   some of its events, in order
     * @param before  the sequence number just before the chunk's first event
     * @throws SQLException when the driver refuses a value
     */
    public static void bindEvents(PreparedStatement insert, int from, AppendRequest request, List<EventData> chunk,
                                  long before) throws SQLException {
        int p = from;
        long sequence = before + 1;
        for (EventData event : chunk) {
            insert.setString(p++, request.aggregateType());
            insert.setString(p++, request.aggregateId());
            insert.setLong(p++, sequence++);
            insert.setString(p++, event.eventId());
            insert.setString(p++, request.commandId());
            insert.setString(p++, event.type());
            insert.setString(p++, event.payload());
            insert.setString(p++, event.metadata());
            insert.setObject(p++, OffsetDateTime.ofInstant(event.timestamp(), ZoneOffset.UTC));
        }
    }

    /**
     * Binds a decision without events to {@link #insertDecision(boolean)}, the variant for its expected sequence.
     *
     * @param insert  the statement
     * @param request a decision without events
     * @throws SQLException when the driver refuses a value
     */
    public static void bindDecision(PreparedStatement insert, AppendRequest request) throws SQLException {
        long decidedAt = request.expected().lastSequence();
        int p = 1;
        insert.setString(p++, request.aggregateType());
        insert.setString(p++, request.aggregateId());
        insert.setString(p++, request.commandId());
        insert.setLong(p++, decidedAt);
        if (request.outcome() instanceof CommandOutcome.Refusal refusal) {
            insert.setString(p++, REFUSAL);
            insert.setString(p++, null);
            insert.setString(p++, null);
            insert.setString(p++, refusal.exceptionType());
            insert.setString(p++, refusal.message());
        } else {
            SerializedValue value = resultOf(request);
            insert.setString(p++, RESULT);
            insert.setString(p++, value == null ? null : value.type());
            insert.setString(p++, value == null ? null : value.data());
            insert.setString(p++, null);
            insert.setString(p++, null);
        }
        insert.setString(p++, request.aggregateType());
        insert.setString(p++, request.aggregateId());
        insert.setLong(p++, decidedAt + 1);
        if (decidedAt >= 0) {
            insert.setString(p++, request.aggregateType());
            insert.setString(p++, request.aggregateId());
            insert.setLong(p, decidedAt);
        }
    }

    private static @Nullable SerializedValue resultOf(AppendRequest request) {
        if (request.outcome() instanceof CommandOutcome.Result result) {
            return result.value();
        }
        throw new IllegalArgumentException("a refusal stores no events, but command " + request.commandId()
                + " for " + request.stream() + " has " + request.events().size());
    }

    /**
     * Binds the stream of {@link #lastSequence()}, {@link #findCommand()} (then the command id at 3) or
     * {@link #readStreamPage()} (then the first sequence and page size at 3 and 4).
     *
     * @param query  the statement
     * @param stream the stream
     * @throws SQLException when the driver refuses a value
     */
    public static void bindStream(PreparedStatement query, StreamId stream) throws SQLException {
        query.setString(1, stream.aggregateType());
        query.setString(2, stream.aggregateId());
    }

    /**
     * Maps a row of {@link #readStreamPage()}, {@link #readAllPostgres()} or {@link #readAllH2()}.
     *
     * @param rows positioned on a row
     * @return the event
     * @throws SQLException when a column cannot be read
     */
    public static StoredEvent event(ResultSet rows) throws SQLException {
        return new StoredEvent(rows.getLong(1), rows.getString(2), rows.getString(3), rows.getLong(4),
                rows.getString(5), rows.getString(6), rows.getString(7), rows.getString(8), rows.getString(9),
                rows.getObject(10, OffsetDateTime.class).toInstant());
    }

    /**
     * Maps a row of {@link #findCommand()}. The table has no CHECK on its outcome columns (it would cost every
     * append), so a row is checked here: a result has no refusal columns and its value's type and text together
     * or neither, a refusal has its type and message, no result and no events.
     *
     * @param rows      positioned on a row
     * @param stream    the stream looked up
     * @param commandId the command looked up
     * @return the record
     * @throws SQLException              when a column cannot be read
     * @throws EventStoreSchemaException when the row is neither a result nor a refusal
     */
    public CommandRecord command(ResultSet rows, StreamId stream, String commandId) throws SQLException {
        long decidedAt = rows.getLong(1);
        int eventCount = rows.getInt(2);
        String kind = rows.getString(3);
        String resultType = rows.getString(4);
        String result = rows.getString(5);
        String refusalType = rows.getString(6);
        String refusalMessage = rows.getString(7);
        CommandOutcome outcome;
        if (RESULT.equals(kind) && refusalType == null && refusalMessage == null
                && (resultType == null) == (result == null)) {
            outcome = CommandOutcome.Result.of(resultType == null ? null : new SerializedValue(resultType, result));
        } else if (REFUSAL.equals(kind) && refusalType != null && !refusalType.isBlank() && refusalMessage != null
                && resultType == null && result == null && eventCount == 0) {
            outcome = new CommandOutcome.Refusal(refusalType, refusalMessage);
        } else {
            throw new EventStoreSchemaException("Command " + commandId + " of " + stream + " has a row in table "
                    + commands + " that is neither a result nor a refusal (outcome '" + kind + "', result type "
                    + resultType + ", result " + (result == null ? "absent" : "present") + ", refusal type "
                    + refusalType + ", refusal message " + (refusalMessage == null ? "absent" : "present")
                    + ", " + eventCount + " events); was it written by another program or a newer version of Gyre?",
                    null);
        }
        if (decidedAt < -1 || eventCount < 0) {
            throw new EventStoreSchemaException("Command " + commandId + " of " + stream + " has a row in table "
                    + commands + " decided at " + decidedAt + " with " + eventCount + " events, which no decision "
                    + "can have", null);
        }
        return new CommandRecord(stream, commandId, decidedAt, eventCount, outcome);
    }

    /** @return true for PostgreSQL */
    public boolean postgres() {
        return postgres;
    }
}
