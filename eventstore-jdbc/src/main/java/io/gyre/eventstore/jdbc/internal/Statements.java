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
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * The SQL of one event store, built once from its validated table names, and next to it the binding of its
 * parameters and the mapping of its rows; every value is a bind parameter. Internal: not part of Gyre's API.
 *
 * <p>A decision is one row in the commands table and, with events, one per event in the events table, written
 * atomically and <em>only if the stream's head is still the one it was decided on</em>: the expected last event n
 * exists (unless n is -1, no stream) and event n + 1 does not. The check is part of the append, in its statement or
 * its transaction, so a stream can get no gap whatever a store believes about it: an event that was committed and
 * then lost (a fail-over to a replica that lagged, a restore) makes the next append conflict instead of leaving a
 * hole. When the head is not the expected one, or the command id is decided already, nothing is written and no
 * statement fails (a failure would abort a shared transaction); the caller finds out why
 * ({@link ConflictDiagnosis}).
 * <ul>
 *   <li>PostgreSQL: {@link #insertCommandOnHead(boolean)} inserts the command row only on the expected head (two
 *       probes of the stream key's index, next to each other) and skips a decided command id
 *       ({@code ON CONFLICT DO NOTHING}); its update count says which. With events, the same statement inserts
 *       them behind it ({@link #insertCommandWithEvents(boolean, int)}: the command row in a data-modifying WITH
 *       clause, the events only if it was inserted), so an append stays one round trip.</li>
 *   <li>H2, which runs in the caller's process where a statement costs no round trip: {@link #streamHead()} reads
 *       the stream's head in the append's transaction, then {@link #insertCommand()} and {@link #insertEvents(int)}
 *       write plain rows. Under concurrent writers this measured faster than one conditional INSERT ... SELECT,
 *       which H2 runs as a query feeding an insert.</li>
 * </ul>
 *
 * <p>A writer of the same stream that commits after the check was made is not seen by it: its next event then
 * collides with this append's on the stream key, and the second to commit fails with a unique violation (a decision
 * without events writes no event, and is ordered before it, as if it had come first, which it may have).
 */
public final class Statements {

    private static final String EVENT_COLUMNS = "aggregate_type, aggregate_id, sequence_number, event_id, "
            + "command_id, event_type, payload, metadata, occurred_at, event_revision";
    private static final String SELECT_COLUMNS = "global_position, aggregate_type, aggregate_id, sequence_number, "
            + "event_id, command_id, event_type, payload, metadata, occurred_at, event_revision";
    private static final String COMMAND_COLUMNS = "aggregate_type, aggregate_id, command_id, decided_at, event_count, "
            + "outcome, result_type, result, refusal_type, refusal_message, fingerprint";
    private static final String COMMAND_KEY = "aggregate_type, aggregate_id, command_id";
    /**
     * The order of one stream's events, spelled as the whole stream key although type and id are fixed by equality:
     * H2 (2.x) uses an index's order only when ORDER BY names the index's leading columns, and sorted by
     * {@code sequence_number} alone it read every event of the stream from the first one asked for, sorted them and
     * kept a page (a 100,000-event stream loaded in 3.0 s instead of 0.15 s, quadratic in its length). PostgreSQL
     * plans both spellings as the same scan of the stream key.
     */
    static final String STREAM_ORDER = "aggregate_type, aggregate_id, sequence_number";
    private static final int CACHED_INSERTS = 16;

    /** PostgreSQL: an event's time from its seconds and microseconds since the epoch, two bigint parameters. */
    private static final String EPOCH_PLUS_SECONDS_MICROS = "(timestamptz 'epoch' + CAST(? AS bigint) * interval "
            + "'1 second' + CAST(? AS bigint) * interval '1 microsecond')";

    private final boolean postgres;
    private final String events;
    private final String commands;
    private final String row;
    private final String insertCommand;
    private final String streamHead;
    private final String[] insertCommandOnHead = new String[2];
    private final String[] inserts = new String[CACHED_INSERTS + 1];
    private final String[][] insertsWithCommand = new String[2][CACHED_INSERTS + 1];

    /**
     * @param postgres true for PostgreSQL, false for H2
     * @param tables   the table names
     */
    public Statements(boolean postgres, TableNames tables) {
        this.postgres = postgres;
        this.events = tables.events();
        this.commands = tables.commands();
        // PostgreSQL's driver sends strings as varchar, which only an explicit cast turns into jsonb; in a VALUES
        // list that feeds an INSERT through a SELECT, every column needs its type.
        // The time goes to PostgreSQL as whole seconds and microseconds since the epoch, added to the epoch there
        // (interval arithmetic without months or days, so no time zone enters; exact for any year PostgreSQL
        // holds): the driver binds an OffsetDateTime by formatting it through a new GregorianCalendar, which was a
        // sixth of a writer thread's CPU in a profile of the durable benchmark.
        this.row = postgres ? "(CAST(? AS text), CAST(? AS text), CAST(? AS bigint), CAST(? AS text), "
                + "CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS jsonb), " + EPOCH_PLUS_SECONDS_MICROS
                + ", CAST(? AS integer))"
                : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        this.insertCommand = "INSERT INTO " + commands + " (" + COMMAND_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                + "?, ?, ?)";
        this.streamHead = "SELECT sequence_number FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " AND sequence_number >= ? ORDER BY " + STREAM_ORDER + " FETCH FIRST 2 ROWS ONLY";
        if (postgres) {
            for (int noStream = 0; noStream < 2; noStream++) {
                insertCommandOnHead[noStream] = buildInsertCommandOnHead(noStream == 1);
            }
        }
    }

    /**
     * PostgreSQL: the row of a decided command, inserted only if the stream's last event is still the one it was
     * decided on (event n exists, unless n is -1, and event n + 1 does not) and no decision is stored under its
     * command id; else nothing, with an update count of 0. Parameters: {@link #bindCommandOnHead}.
     *
     * @param noStream true for a decision on no stream (n = -1), which has no event n to check
     * @return the statement
     */
    public String insertCommandOnHead(boolean noStream) {
        if (!postgres) {
            throw new IllegalStateException("H2 checks the head with streamHead() and inserts plain rows");
        }
        return insertCommandOnHead[noStream ? 1 : 0];
    }

    private String buildInsertCommandOnHead(boolean noStream) {
        String select = "SELECT CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS bigint), "
                + "CAST(? AS integer), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), "
                + "CAST(? AS text), CAST(? AS text)";
        String next = "NOT EXISTS (SELECT 1 FROM " + events
                + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = ?)";
        String decided = " AND EXISTS (SELECT 1 FROM " + events
                + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = ?)";
        // A decided command id is skipped without an error, also one whose holder commits while this waits for it.
        return "INSERT INTO " + commands + " (" + COMMAND_COLUMNS + ") " + select + " WHERE " + next
                + (noStream ? "" : decided) + " ON CONFLICT (" + COMMAND_KEY + ") DO NOTHING";
    }

    /**
     * PostgreSQL: a command's row and its (first) events in one statement, both inserted only if the command row
     * may be ({@link #insertCommandOnHead(boolean)}); the update count is the number of events inserted, 0 when
     * none. Parameters: {@link #bindCommandOnHead}, then those of each event ({@link #bindEvents}).
     *
     * @param noStream true for an append on no stream
     * @param rows     events in the statement
     * @return the statement
     */
    public String insertCommandWithEvents(boolean noStream, int rows) {
        if (!postgres) {
            throw new IllegalStateException("H2 has no data-modifying WITH; insert the command row first");
        }
        String[] cache = insertsWithCommand[noStream ? 1 : 0];
        if (rows <= CACHED_INSERTS) {
            String cached = cache[rows];
            if (cached == null) {
                cached = buildInsertWithCommand(noStream, rows);
                cache[rows] = cached;
            }
            return cached;
        }
        return buildInsertWithCommand(noStream, rows);
    }

    private String buildInsertWithCommand(boolean noStream, int rows) {
        // The WITH clause runs exactly once and to completion, in the same snapshot and transaction as the events.
        return "WITH command AS (" + insertCommandOnHead(noStream) + " RETURNING 1) INSERT INTO " + events + " ("
                + EVENT_COLUMNS + ") SELECT * FROM (VALUES " + rows(rows) + ") AS event"
                + " WHERE EXISTS (SELECT 1 FROM command)";
    }

    /**
     * H2: the first two sequence numbers of a stream from n on ({@link #bindStreamHead}); the head is n exactly
     * when they are [n] (for n = -1: when there are none from 0 on).
     *
     * @return the query
     */
    public String streamHead() {
        return streamHead;
    }

    /**
     * H2: the row of a decided command, after {@link #streamHead()} found the expected head. Parameters:
     * {@link #bindCommandRow}. A decided command id fails it with a unique violation.
     *
     * @return the statement
     */
    public String insertCommand() {
        return insertCommand;
    }

    /**
     * Events after their command row is in: on H2 every chunk, on PostgreSQL the chunks after the first.
     * Parameters: those of each event ({@link #bindEvents}).
     *
     * @param rows events in the statement
     * @return an insert of that many event rows
     */
    public String insertEvents(int rows) {
        if (rows <= CACHED_INSERTS) {
            String cached = inserts[rows];
            if (cached == null) {
                cached = buildInsertEvents(rows);
                inserts[rows] = cached;
            }
            return cached;
        }
        return buildInsertEvents(rows);
    }

    private String buildInsertEvents(int rows) {
        return "INSERT INTO " + events + " (" + EVENT_COLUMNS + ") VALUES " + rows(rows);
    }

    private String rows(int rows) {
        StringJoiner joiner = new StringJoiner(", ");
        for (int i = 0; i < rows; i++) {
            joiner.add(row);
        }
        return joiner.toString();
    }

    /**
     * @return the last sequence number of a stream, no row when it has none: aggregate type, aggregate id. Read
     *         backwards along the stream key ({@link #STREAM_ORDER}) rather than as {@code MAX(sequence_number)}, which
     *         H2 computes by reading every event of the stream
     */
    public String lastSequence() {
        return "SELECT sequence_number FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " ORDER BY aggregate_type DESC, aggregate_id DESC, sequence_number DESC FETCH FIRST 1 ROW ONLY";
    }

    /**
     * @return a command's record, by its key: aggregate type, aggregate id, command id. Columns: decided at,
     *         event count, outcome, result type, result, refusal type, refusal message, fingerprint
     */
    public String findCommand() {
        return "SELECT decided_at, event_count, outcome, result_type, result, refusal_type, refusal_message, "
                + "fingerprint FROM " + commands + " WHERE aggregate_type = ? AND aggregate_id = ? AND command_id = ?";
    }

    /** @return one page of a stream: aggregate type, aggregate id, first sequence, page size */
    public String readStreamPage() {
        return "SELECT " + SELECT_COLUMNS + " FROM " + events + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " AND sequence_number >= ? ORDER BY " + STREAM_ORDER + " LIMIT ?";
    }

    /**
     * PostgreSQL: a stream's latest snapshot and the first page of its events from the snapshot's own sequence number
     * on (from 0 without one), in one query, so that loading an aggregate with snapshots on is one round trip: first
     * the snapshot's row if there is one (column 1 is 0, then {@link JdbcSnapshots}' columns of a snapshot from 2 to
     * 8), then the events' rows in order (column 1 is 1, then the columns of {@link #readStreamPage()} from 9 on).
     * Both parts read the snapshots table in the statement's one snapshot of the database, so the events start at the
     * snapshot returned. Parameters: aggregate type and id three times, then the page size.
     *
     * @param snapshots the snapshots table
     * @return the query
     */
    public String readSnapshotWithStreamPage(String snapshots) {
        if (!postgres) {
            throw new IllegalStateException("H2 runs in the caller's process: it reads the two one after the other");
        }
        // Typed NULLs: inside the subquery a NULL of unknown type would become text, which a bigint cannot join.
        String snapshotNulls = "CAST(NULL AS bigint), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS integer), "
                + "CAST(NULL AS text), CAST(NULL AS jsonb), CAST(NULL AS timestamptz)";
        String eventNulls = "CAST(NULL AS bigint), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS bigint), "
                + "CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS jsonb), "
                + "CAST(NULL AS jsonb), CAST(NULL AS timestamptz), CAST(NULL AS integer)";
        return "SELECT 0 AS part, sequence_number, last_event_id, snapshot_type, snapshot_revision, shape_hash, "
                + "payload, taken_at, " + eventNulls + " FROM " + snapshots
                + " WHERE aggregate_type = ? AND aggregate_id = ?"
                + " UNION ALL SELECT * FROM (SELECT 1, " + snapshotNulls + ", " + SELECT_COLUMNS + " FROM " + events
                + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number >= COALESCE((SELECT "
                + "sequence_number FROM " + snapshots + " WHERE aggregate_type = ? AND aggregate_id = ?), 0)"
                + " ORDER BY sequence_number LIMIT ?) AS page ORDER BY 1, 12";
    }

    /**
     * PostgreSQL: the next events of the global log after a token, in log order ({@link PostgresLogOrder}): by log
     * epoch, inserting transaction and position; of an older epoch than the current one, all of which have finished,
     * or of the current epoch and a transaction older than every one still running. Parameters: the token's epoch,
     * its transaction id (as text), its position, the batch size. The extra last columns are the transaction id and
     * the epoch.
     *
     * @return the statement
     */
    public String readAllPostgres() {
        // The commit order is selected under a name of its own: unnamed, the cast would be named transaction_id, and
        // ORDER BY transaction_id would then sort by that selected bigint instead of the indexed xid8 column, making
        // every batch a sequential scan and a sort of the whole table. Both bounds are row comparisons on the index's
        // leading columns, so the index scan starts after the token and stops at the horizon.
        return "SELECT " + SELECT_COLUMNS + ", CAST(CAST(transaction_id AS text) AS bigint) AS commit_order,"
                + " log_epoch FROM " + events
                + " WHERE (log_epoch, transaction_id, global_position) > (?, CAST(? AS xid8), ?)"
                + " AND (log_epoch, transaction_id) < (" + PostgresLogOrder.currentEpochSql(events)
                + ", pg_snapshot_xmin(pg_current_snapshot()))"
                + " ORDER BY log_epoch, transaction_id, global_position LIMIT ?";
    }

    /**
     * PostgreSQL: whether any committed event follows a position of the global log, the snapshot horizon aside: after
     * a short read ({@link #readAllPostgres()}), one found means the read left it behind, held back by an older
     * transaction still running, or that it committed since ({@link WithheldEventsWake}). An index probe, one row at
     * most. Parameters: the position's epoch, transaction id (as text) and global position.
     *
     * @return the statement
     */
    public String anyAfterPostgres() {
        return "SELECT 1 FROM " + events
                + " WHERE (log_epoch, transaction_id, global_position) > (?, CAST(? AS xid8), ?)"
                + " ORDER BY log_epoch, transaction_id, global_position LIMIT 1";
    }

    /**
     * PostgreSQL: what the global log's watch ({@link PostgresLogWatch}) looks at, in one snapshot: the snapshot's
     * horizon and next transaction id (as text), the current log epoch, and the epoch and transaction id of the newest
     * event in log order (NULL when there is none), read backwards from the log's index.
     *
     * @return the statement, without parameters
     */
    public String logCheckPostgres() {
        return "SELECT CAST(pg_snapshot_xmin(s) AS text), CAST(pg_snapshot_xmax(s) AS text), "
                + PostgresLogOrder.currentEpochSql(events) + ", n.log_epoch, CAST(CAST(n.transaction_id AS text) AS"
                + " bigint) FROM pg_current_snapshot() AS s LEFT JOIN LATERAL (SELECT log_epoch, transaction_id FROM "
                + events + " ORDER BY log_epoch DESC, transaction_id DESC LIMIT 1) AS n ON true";
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
     * Binds the row of a decided command to {@link #insertCommand()} or the head of
     * {@link #insertCommandOnHead(boolean)}: aggregate type, aggregate id, command id, decided at n, event count,
     * outcome, result type, result, refusal type, refusal message, fingerprint.
     *
     * @param insert  the statement
     * @param from    the index of the first parameter
     * @param request a decision, with or without events
     * @return the index of the next parameter
     * @throws SQLException when the driver refuses a value
     */
    public static int bindCommandRow(PreparedStatement insert, int from, AppendRequest request) throws SQLException {
        int p = from;
        insert.setString(p++, request.aggregateType());
        insert.setString(p++, request.aggregateId());
        insert.setString(p++, request.commandId());
        insert.setLong(p++, request.expected().lastSequence());
        insert.setInt(p++, request.events().size());
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
        insert.setString(p++, request.fingerprint());
        return p;
    }

    /**
     * Binds {@link #insertCommandOnHead(boolean)}, or the head of {@link #insertCommandWithEvents(boolean, int)},
     * for the variant of the request's expected sequence n: the row ({@link #bindCommandRow}), then the stream and
     * n + 1, then unless n is -1 the stream and n.
     *
     * @param insert  the statement
     * @param from    the index of the first parameter
     * @param request a decision, with or without events
     * @return the index of the next parameter
     * @throws SQLException when the driver refuses a value
     */
    public static int bindCommandOnHead(PreparedStatement insert, int from, AppendRequest request)
            throws SQLException {
        long decidedAt = request.expected().lastSequence();
        int p = bindCommandRow(insert, from, request);
        insert.setString(p++, request.aggregateType());
        insert.setString(p++, request.aggregateId());
        insert.setLong(p++, decidedAt + 1);
        if (decidedAt >= 0) {
            insert.setString(p++, request.aggregateType());
            insert.setString(p++, request.aggregateId());
            insert.setLong(p++, decidedAt);
        }
        return p;
    }

    /**
     * Binds {@link #streamHead()} for a decision expecting n.
     *
     * @param query   the query
     * @param request the decision
     * @throws SQLException when the driver refuses a value
     */
    public static void bindStreamHead(PreparedStatement query, AppendRequest request) throws SQLException {
        query.setString(1, request.aggregateType());
        query.setString(2, request.aggregateId());
        query.setLong(3, Math.max(0, request.expected().lastSequence()));
    }

    /**
     * @param rows    the result of {@link #streamHead()}
     * @param request the decision it was run for
     * @return true when the stream's last event is the expected one
     * @throws SQLException when a row cannot be read
     */
    public static boolean headIsExpected(ResultSet rows, AppendRequest request) throws SQLException {
        long expected = request.expected().lastSequence();
        if (expected < 0) {
            return !rows.next();
        }
        return rows.next() && rows.getLong(1) == expected && !rows.next();
    }

    /**
     * Binds a chunk of a command's events, each: type, id, sequence, event id, command id, event type, payload,
     * metadata, time (on PostgreSQL two parameters, seconds and microseconds since the epoch; on H2 one), revision.
     *
     * @param insert  the statement
     * @param from    the index of the first parameter
     * @param request the decision
     * @param chunk   some of its events, in order
     * @param before  the sequence number just before the chunk's first event
     * @throws SQLException when the driver refuses a value
     */
    public void bindEvents(PreparedStatement insert, int from, AppendRequest request, List<EventData> chunk,
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
            if (postgres) {
                // Rounded to the microsecond as PostgreSQL rounds a time it parses (half up), so a time reads back
                // as it did when the driver formatted it.
                Instant time = event.timestamp();
                long seconds = time.getEpochSecond();
                long micros = (time.getNano() + 500) / 1_000;
                if (micros == 1_000_000) {
                    seconds++;
                    micros = 0;
                }
                insert.setLong(p++, seconds);
                insert.setLong(p++, micros);
            } else {
                insert.setObject(p++, OffsetDateTime.ofInstant(event.timestamp(), ZoneOffset.UTC));
            }
            insert.setInt(p++, event.revision());
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
        return event(rows, 1);
    }

    /**
     * Maps the columns of an event from a column on, in the order of {@link #readStreamPage()}'s.
     *
     * @param rows positioned on a row
     * @param from the index of the event's first column
     * @return the event
     * @throws SQLException when a column cannot be read
     */
    public static StoredEvent event(ResultSet rows, int from) throws SQLException {
        int c = from;
        return new StoredEvent(rows.getLong(c), rows.getString(c + 1), rows.getString(c + 2), rows.getLong(c + 3),
                rows.getString(c + 4), rows.getString(c + 5), rows.getString(c + 6), rows.getString(c + 7),
                rows.getString(c + 8), rows.getObject(c + 9, OffsetDateTime.class).toInstant(), rows.getInt(c + 10));
    }

    /**
     * Maps a row as {@link #event(ResultSet)} does, sharing the aggregate type and event type Strings of the
     * previous row when they repeat.
     *
     * @param rows  positioned on a row
     * @param names the names of the previous row of the same result set
     * @return the event
     * @throws SQLException when a column cannot be read
     */
    public static StoredEvent event(ResultSet rows, RepeatedNames names) throws SQLException {
        return new StoredEvent(rows.getLong(1), names.aggregateType(rows.getString(2)), rows.getString(3),
                rows.getLong(4), rows.getString(5), rows.getString(6), names.eventType(rows.getString(7)),
                rows.getString(8), rows.getString(9), rows.getObject(10, OffsetDateTime.class).toInstant(),
                rows.getInt(11));
    }

    /**
     * The aggregate type and event type of the last row mapped from a result set of the global log, so that rows
     * repeating them share one String each. A log holds few distinct names, and the events a reader hands on pass
     * through maps keyed by them (a processor's handler routes, the type registry): a String shared by a batch is
     * hashed once, where a fresh String per row was hashed again for every event, a sixth of a processor segment's
     * time in a profile of a catch-up. Comparing with the previous row's costs less than the hash it saves. Not
     * thread-safe: one per result set.
     */
    public static final class RepeatedNames {

        private String aggregateType = "";
        private String eventType = "";

        String aggregateType(String read) {
            if (!read.equals(aggregateType)) {
                aggregateType = read;
            }
            return aggregateType;
        }

        String eventType(String read) {
            if (!read.equals(eventType)) {
                eventType = read;
            }
            return eventType;
        }
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
        String fingerprint = rows.getString(8);
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
        return new CommandRecord(stream, commandId, decidedAt, eventCount, outcome, fingerprint);
    }

    /** @return the events table's name, as configured */
    public String eventsTable() {
        return events;
    }

    /** @return true for PostgreSQL */
    public boolean postgres() {
        return postgres;
    }
}
