package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.TableNames;
import java.util.StringJoiner;

/**
 * The SQL of one event store, built once from its validated table names; every value is a bind parameter.
 * Internal: not part of Gyre's API.
 */
public final class Statements {

    private static final String INSERT_COLUMNS = "aggregate_type, aggregate_id, sequence_number, event_id, "
            + "command_id, event_type, payload, metadata, occurred_at, command_key, result_type, result";
    private static final String SELECT_COLUMNS = "global_position, aggregate_type, aggregate_id, sequence_number, "
            + "event_id, command_id, event_type, payload, metadata, occurred_at";
    private static final int CACHED_INSERTS = 16;

    private final boolean postgres;
    private final String events;
    private final String row;
    private final String[] inserts = new String[CACHED_INSERTS + 1];

    /**
     * @param postgres true for PostgreSQL, false for H2
     * @param tables   the table names
     */
    public Statements(boolean postgres, TableNames tables) {
        this.postgres = postgres;
        this.events = tables.events();
        // PostgreSQL's driver sends strings as varchar, which only an explicit cast turns into jsonb.
        this.row = postgres ? "(?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb), ?, ?, ?, ?)"
                : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    }

    /** Parameters per event row. */
    public static final int PARAMETERS_PER_EVENT = 12;

    /**
     * @param rows events in the statement
     * @return an insert of that many rows
     */
    public String insert(int rows) {
        if (rows <= CACHED_INSERTS) {
            String cached = inserts[rows];
            if (cached == null) {
                cached = buildInsert(rows);
                inserts[rows] = cached;
            }
            return cached;
        }
        return buildInsert(rows);
    }

    private String buildInsert(int rows) {
        return "INSERT INTO " + events + " (" + INSERT_COLUMNS + ") VALUES " + rows(rows);
    }

    private String rows(int rows) {
        StringJoiner joiner = new StringJoiner(", ");
        for (int i = 0; i < rows; i++) {
            joiner.add(row);
        }
        return joiner.toString();
    }

    /** @return the last sequence number of an aggregate, NULL when it has none */
    public String lastSequence() {
        return "SELECT MAX(sequence_number) FROM " + events + " WHERE aggregate_id = ?";
    }

    /** @return a command's first event, by the unique key: aggregate id, command id */
    public String findCommand() {
        return "SELECT sequence_number, result_type, result FROM " + events
                + " WHERE aggregate_id = ? AND command_key = ?";
    }

    /** @return the last sequence number of a command's events: aggregate id, its first sequence, command id */
    public String lastOfCommand() {
        return "SELECT MAX(sequence_number) FROM " + events
                + " WHERE aggregate_id = ? AND sequence_number >= ? AND command_id = ?";
    }

    /** @return one page of an aggregate's stream: aggregate id, first sequence, page size */
    public String readStreamPage() {
        return "SELECT " + SELECT_COLUMNS + " FROM " + events
                + " WHERE aggregate_id = ? AND sequence_number >= ? ORDER BY sequence_number LIMIT ?";
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

    /** @return true for PostgreSQL */
    public boolean postgres() {
        return postgres;
    }
}
