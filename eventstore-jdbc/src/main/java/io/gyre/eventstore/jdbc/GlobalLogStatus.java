package io.gyre.eventstore.jdbc;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Whether the global log ({@code readAll}) is moving, as {@link JdbcEventStore#globalLogStatus()} last found it:
 * what a status page or a health check shows next to the processors' own status.
 *
 * <p>On PostgreSQL readers only read transactions older than the oldest one still running on the server (the
 * snapshot horizon, see {@link JdbcEventStore}), so one transaction that has written and stays open (a session idle
 * in a transaction, in any database of the server) holds every reader back until it ends. The store then reports
 * {@link State#STALLED} with the sessions to look at. H2 is always {@link State#MOVING}.
 *
 * @param state            what the store found
 * @param checkedAt        when it looked
 * @param horizon          PostgreSQL: the transaction id below which readers read (the oldest one still running),
 *                         else null
 * @param newestStored     PostgreSQL: the transaction id of the newest event of the current log epoch (see
 *                         {@link GlobalLogRepair}), or null when the epoch has none yet, and on H2
 * @param heldFor          how long the horizon has stood still while committed events waited beyond it, zero when
 *                         it does not
 * @param blockingSessions the sessions whose transactions hold the horizon back, the oldest first; empty unless
 *                         {@link State#STALLED}
 * @param message          what is wrong and what to do, or "moving"
 */
public record GlobalLogStatus(State state, Instant checkedAt, @Nullable String horizon, @Nullable String newestStored,
                              Duration heldFor, List<BlockingSession> blockingSessions, String message) {

    /** Copies the list and checks every part. */
    public GlobalLogStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(checkedAt, "checkedAt");
        Objects.requireNonNull(heldFor, "heldFor");
        blockingSessions = List.copyOf(blockingSessions);
        Objects.requireNonNull(message, "message");
    }

    /** What the store found. */
    public enum State {
        /** Readers get every committed event (or there is nothing new). */
        MOVING,
        /**
         * Committed events wait beyond a horizon that has not moved for longer than the store's stall threshold: a
         * transaction on the server holds every reader back; {@link #blockingSessions()} names it.
         */
        STALLED,
        /**
         * The stored transaction ids of the current log epoch are above the server's (a restore or an upgrade by
         * logical replication): readers would get nothing; {@code readAll} refuses with a
         * {@link GlobalLogRestoredException} naming the repair.
         */
        RESTORED
    }

    /**
     * A session of the server whose open transaction holds the horizon back, from {@code pg_stat_activity}.
     * Without the {@code pg_read_all_stats} role, sessions of other users show only their pid and database.
     *
     * @param pid              the server process id, for {@code pg_terminate_backend(pid)}
     * @param database         its database, or null when not shown
     * @param state            such as {@code idle in transaction}, or null when not shown
     * @param transactionStart when its transaction began, or null when not shown
     * @param query            its last statement, cut to 200 characters, or null when not shown
     */
    public record BlockingSession(int pid, @Nullable String database, @Nullable String state,
                                  @Nullable Instant transactionStart, @Nullable String query) {
    }
}
