package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.GlobalLogRestoredException;
import io.gyre.eventstore.jdbc.GlobalLogStatus;
import io.gyre.eventstore.jdbc.GlobalLogStatus.BlockingSession;
import io.gyre.eventstore.jdbc.GlobalLogStatus.State;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the two ways PostgreSQL's global log ({@link PostgresGlobalLog}) can stop delivering without an error of
 * its own. Internal: not part of Gyre's API.
 *
 * <ul>
 *   <li><b>A stall.</b> Readers read only transactions below the snapshot horizon, the oldest transaction still
 *       running on the whole server. A transaction that has written (it has a transaction id) and stays open, such
 *       as a session left idle in a transaction, in any database, holds the horizon where it is. When committed
 *       events wait beyond a horizon that has not moved for longer than the threshold, the log is stalled: the
 *       sessions holding it are read from {@code pg_stat_activity} and logged at WARN, at most once a minute.</li>
 *   <li><b>A restore.</b> Transaction ids of the current log epoch ({@link PostgresLogOrder}) stored in the events
 *       table (or held in a reader's token) at or above the next id the server will hand out come from another
 *       server: a {@code pg_dump}/restore or an upgrade by logical replication. So does an event or a token of an
 *       epoch above the current one. Readers would get nothing from them, silently; the store refuses with a
 *       {@link GlobalLogRestoredException} that names the repair, a new epoch. Ids of older epochs are above the
 *       server's by design after a repair, and are not looked at.</li>
 * </ul>
 *
 * <p>Both are found by one cheap query (the snapshot, the current epoch and the newest stored event, from the log's
 * index read backwards). Readers run it after a batch that did not fill up, which is when a stall or a restore shows,
 * at most once per {@link #CHECK_INTERVAL}; a status request runs it at once.
 */
public final class PostgresLogWatch {

    private static final Logger log = LoggerFactory.getLogger(PostgresLogWatch.class);

    /** The least time between two checks made on behalf of readers. */
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

    /** The least time between two warnings about one stall. */
    static final Duration WARN_INTERVAL = Duration.ofMinutes(1);

    private static final int QUERY_CHARS = 200;

    private final Connections connections;
    private final Failures failures;
    private final Duration stallThreshold;
    private final Clock clock;
    private final String checkSql;

    private long lastCheckNanos = System.nanoTime() - CHECK_INTERVAL.toNanos();
    private @Nullable String heldHorizon;
    private @Nullable Instant heldSince;
    private @Nullable Instant lastWarning;
    private @Nullable Found last;

    /**
     * @param connections    where connections come from
     * @param failures       translates driver errors
     * @param stallThreshold how long the horizon may stand still while events wait beyond it
     * @param clock          the time of checks
     */
    public PostgresLogWatch(Connections connections, Failures failures, Duration stallThreshold, Clock clock) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.stallThreshold = Objects.requireNonNull(stallThreshold, "stallThreshold");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.checkSql = connections.sql().logCheckPostgres();
    }

    /**
     * Checks at start: a restored database is refused before anything is appended to it.
     *
     * @throws GlobalLogRestoredException when stored transaction ids are above the server's
     */
    public void checkAtStart() {
        Found found = checkNow(null);
        if (found.status().state() == State.RESTORED) {
            throw restored(found, "found at start");
        }
    }

    /**
     * Called by a reader whose batch did not fill up; checks at most once per {@link #CHECK_INTERVAL}.
     *
     * @param after the token the reader read after
     * @throws GlobalLogRestoredException when stored transaction ids, or the token's, are above the server's
     */
    public void afterShortRead(TrackingToken after) {
        Found found;
        synchronized (this) {
            long now = System.nanoTime();
            found = now - lastCheckNanos < CHECK_INTERVAL.toNanos() ? last : null;
            if (found == null) {
                lastCheckNanos = now;
            }
        }
        if (found == null) {
            found = checkNow(after);
        }
        if (found.status().state() == State.RESTORED) {
            throw restored(found, "found while reading after " + after + " (" + PostgresLogOrder.describe(
                    after.commitOrder()) + ")");
        }
    }

    /** @return the status found by a check made now */
    public GlobalLogStatus statusNow() {
        return checkNow(null).status();
    }

    /** @return the status the last check found, or null before the first */
    public synchronized @Nullable GlobalLogStatus lastStatus() {
        return last == null ? null : last.status();
    }

    /**
     * A check's status, with what a refusal names.
     *
     * @param status       the status
     * @param next         the next transaction id the server hands out
     * @param currentEpoch the epoch new events take
     * @param ahead        the commit order ({@link PostgresLogOrder}) found ahead of the server, -1 for none
     * @param aheadIs      what holds it: the newest event, or a reader's token
     */
    private record Found(GlobalLogStatus status, String next, int currentEpoch, long ahead, String aheadIs) {
    }

    private Found checkNow(@Nullable TrackingToken after) {
        try (Connection connection = connections.open()) {
            Found found = check(connection, after);
            synchronized (this) {
                last = found;
            }
            return found;
        } catch (SQLException e) {
            throw failures.of("Checking whether the global log of " + connections.sql().eventsTable() + " moves", e);
        }
    }

    private Found check(Connection connection, @Nullable TrackingToken after) throws SQLException {
        String horizon;
        String next;
        int epoch;
        long newest = -1;
        try (PreparedStatement query = connection.prepareStatement(checkSql); ResultSet row = query.executeQuery()) {
            row.next();
            horizon = row.getString(1);
            next = row.getString(2);
            epoch = row.getInt(3);
            int newestEpoch = row.getInt(4);
            if (!row.wasNull()) {
                newest = PostgresLogOrder.commitOrder(newestEpoch, row.getLong(5));
            }
        }
        Instant now = clock.instant();
        long nextId = Long.parseLong(next);
        // Ids of an older epoch came from another server; only the current epoch's are this server's.
        @Nullable String newestId = newest >= 0 && PostgresLogOrder.epoch(newest) == epoch
                ? Long.toString(PostgresLogOrder.transactionId(newest)) : null;
        long ahead = -1;
        String aheadIs = "";
        if (PostgresLogOrder.aheadOfServer(epoch, newest, nextId)) {
            ahead = newest;
            aheadIs = "the newest stored event";
        } else if (after != null && PostgresLogOrder.aheadOfServer(epoch, after.commitOrder(), nextId)) {
            ahead = after.commitOrder();
            aheadIs = "a reader's token";
        }
        if (ahead >= 0) {
            return new Found(new GlobalLogStatus(State.RESTORED, now, horizon, newestId, Duration.ZERO, List.of(),
                    aheadIs + " is at " + PostgresLogOrder.describe(ahead) + ", but the current log epoch is " + epoch
                            + " and the server's next transaction id " + next + ": restored from another server; see "
                            + "GlobalLogRestoredException"), next, epoch, ahead, aheadIs);
        }
        boolean waiting = newestId != null && Long.parseLong(newestId) >= Long.parseLong(horizon);
        Duration held = held(waiting ? horizon : null, now);
        if (held.compareTo(stallThreshold) < 0) {
            return new Found(new GlobalLogStatus(State.MOVING, now, horizon, newestId, held, List.of(), "moving"), next,
                    epoch, -1, "");
        }
        List<BlockingSession> blockers = blockers(connection);
        String message = "The global log of " + connections.sql().eventsTable() + " has stood still for "
                + held.toSeconds() + " s: committed events up to transaction " + newestId + " wait until transaction "
                + horizon + " ends, the oldest still running on the server" + describe(blockers) + ". End it, or "
                + "set idle_in_transaction_session_timeout so that PostgreSQL ends such sessions";
        warn(message, now);
        return new Found(new GlobalLogStatus(State.STALLED, now, horizon, newestId, held, blockers, message), next,
                epoch, -1, "");
    }

    /** @return how long the horizon has stood still with events waiting beyond it; resets when either changes */
    private synchronized Duration held(@Nullable String waitingHorizon, Instant now) {
        if (waitingHorizon == null) {
            if (heldHorizon != null && lastWarning != null) {
                log.info("The global log of {} moves again (horizon was {})", connections.sql().eventsTable(),
                        heldHorizon);
            }
            heldHorizon = null;
            heldSince = null;
            lastWarning = null;
            return Duration.ZERO;
        }
        if (!waitingHorizon.equals(heldHorizon) || heldSince == null) {
            heldHorizon = waitingHorizon;
            heldSince = now;
            lastWarning = null;
        }
        return Duration.between(heldSince, now);
    }

    private synchronized void warn(String message, Instant now) {
        if (lastWarning == null || Duration.between(lastWarning, now).compareTo(WARN_INTERVAL) >= 0) {
            lastWarning = now;
            log.warn(message);
        }
    }

    private static List<BlockingSession> blockers(Connection connection) throws SQLException {
        // Every session with a transaction id holds the horizon at or below its id; the oldest is the one to end.
        String sql = "SELECT pid, datname, state, xact_start, left(query, " + QUERY_CHARS + ") FROM pg_stat_activity"
                + " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY age(backend_xid) DESC LIMIT 5";
        List<BlockingSession> sessions = new ArrayList<>();
        try (PreparedStatement query = connection.prepareStatement(sql); ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                Timestamp start = rows.getTimestamp(4);
                sessions.add(new BlockingSession(rows.getInt(1), rows.getString(2), rows.getString(3),
                        start == null ? null : start.toInstant(), rows.getString(5)));
            }
        }
        return sessions;
    }

    private static String describe(List<BlockingSession> sessions) {
        if (sessions.isEmpty()) {
            return " (no session shows one: look for a prepared transaction in pg_prepared_xacts)";
        }
        StringBuilder text = new StringBuilder("; sessions holding it, oldest first:");
        for (BlockingSession session : sessions) {
            text.append(" [pid ").append(session.pid()).append(", database ").append(session.database())
                    .append(", ").append(session.state()).append(" since ").append(session.transactionStart())
                    .append(", query: ").append(session.query()).append(']');
        }
        return text.toString();
    }

    private GlobalLogRestoredException restored(Found found, String when) {
        long ahead = found.ahead();
        boolean laterEpoch = PostgresLogOrder.epoch(ahead) > found.currentEpoch();
        String what = laterEpoch
                ? "is of log epoch " + PostgresLogOrder.epoch(ahead) + ", above the current epoch " + found.currentEpoch()
                + " (the data was restored into a schema created anew, or the epoch was lowered)"
                : "holds transaction id " + PostgresLogOrder.transactionId(ahead) + " of the current log epoch "
                + found.currentEpoch() + ", but this server's next transaction id is " + found.next() + " (as after a "
                + "pg_dump/restore or an upgrade by logical replication)";
        return new GlobalLogRestoredException("The global log of " + connections.sql().eventsTable() + " holds events "
                + "from another server (" + when + "): " + found.aheadIs() + " " + what + ". Readers order events by "
                + "log epoch and transaction id, so they would silently get nothing, and new events would sort before "
                + "restored ones. Repair: run GlobalLogRepair.startNewEpoch(dataSource, tables) once against this "
                + "database (instant, whatever the gap; stop every node first), which makes every new event sort "
                + "after every restored one without changing anything stored, and start again; the README section "
                + "'Repairing the global log after a restore' explains it.",
                Long.toString(PostgresLogOrder.transactionId(ahead)), found.next());
    }
}
