package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL's global log, ordered by transaction: every event row records its inserting transaction
 * ({@code pg_current_xact_id()}) and the log epoch it was appended in ({@link PostgresLogOrder}). Readers order the
 * log by (epoch, transaction id, position) and read, of the current epoch, only rows of transactions older than the
 * oldest transaction still running ({@code pg_snapshot_xmin(pg_current_snapshot())}, evaluated in the query's own
 * snapshot); every row of an older epoch has finished by construction. Every such transaction has finished, so that
 * part of the log is final: a transaction that commits late is read when it finishes, in its place, and a
 * rolled-back one simply never appears. A long transaction anywhere on the server delays readers (never appenders)
 * until it ends. Appends have nothing to do: the epoch is the column's default.
 *
 * <p>Both a long transaction and a restore from another server (stored ids above the server's) make readers get
 * nothing without an error of their own; a batch that does not fill up therefore lets {@link PostgresLogWatch}
 * look (at most once a second), which reports the first and refuses the second. Such a batch, when the store listens
 * for appends, is also followed by a look for committed events after it: held back by the horizon, they would
 * otherwise wait for the readers' poll when the transaction holding them back notifies nobody as it ends
 * ({@link WithheldEventsWake}). Internal: not part of Gyre's API.
 */
public final class PostgresGlobalLog implements GlobalLog {

    private static final Logger log = LoggerFactory.getLogger(PostgresGlobalLog.class);

    private final Connections connections;
    private final Failures failures;
    private final PostgresLogWatch watch;
    private final @Nullable WithheldEventsWake wake;

    /**
     * @param connections where connections come from
     * @param failures    translates driver errors
     * @param watch       looks for a stall or a restore when a batch does not fill up
     * @param wake        wakes the store's append subscribers again when a batch left committed events behind, or
     *                    null when the store does not listen for appends
     */
    public PostgresGlobalLog(Connections connections, Failures failures, PostgresLogWatch watch,
                             @Nullable WithheldEventsWake wake) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.watch = Objects.requireNonNull(watch, "watch");
        this.wake = wake;
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        List<TrackedEvent> batch = read(after, maxCount);
        if (batch.size() < maxCount) {
            watch.afterShortRead(after);
        }
        return batch;
    }

    private List<TrackedEvent> read(TrackingToken after, int maxCount) {
        try (Connection connection = connections.open();
             PreparedStatement query = connections.prepare(connection, connections.sql().readAllPostgres())) {
            query.setInt(1, PostgresLogOrder.epoch(after.commitOrder()));
            query.setString(2, Long.toString(PostgresLogOrder.transactionId(after.commitOrder())));
            query.setLong(3, after.position());
            query.setInt(4, maxCount);
            List<TrackedEvent> batch = new ArrayList<>();
            Statements.RepeatedNames names = new Statements.RepeatedNames();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    StoredEvent event = Statements.event(rows, names);
                    long commitOrder = PostgresLogOrder.commitOrder(rows.getInt(13), rows.getLong(12));
                    batch.add(new TrackedEvent(event, new TrackingToken(commitOrder, event.position())));
                }
            }
            if (batch.size() < maxCount && wake != null && wake.wanted()) {
                // The read stopped at the horizon or at the end: an event committed after the batch's last, visible
                // now, was held back (or committed since). If the transaction holding it back writes no event, no
                // notification comes when it ends, so the readers are woken again shortly instead of at their poll.
                TrackingToken last = batch.isEmpty() ? after : batch.get(batch.size() - 1).token();
                wake.afterShortRead(!batch.isEmpty(), anyAfter(connection, last));
            }
            return batch;
        } catch (SQLException e) {
            throw failures.of("Reading the global log after " + after, e);
        }
    }

    /**
     * @return whether a committed event follows the position; true when the look fails, which must not fail the batch
     *         read already (a wake too many costs a read)
     */
    private boolean anyAfter(Connection connection, TrackingToken position) {
        try (PreparedStatement probe = connections.prepare(connection, connections.sql().anyAfterPostgres())) {
            probe.setInt(1, PostgresLogOrder.epoch(position.commitOrder()));
            probe.setString(2, Long.toString(PostgresLogOrder.transactionId(position.commitOrder())));
            probe.setLong(3, position.position());
            try (ResultSet rows = probe.executeQuery()) {
                return rows.next();
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("Looking for events after {} failed; waking the readers again anyway", position, e);
            return true;
        }
    }

    @Override
    public void enterAppend() {
        // The transaction id on every row is all a reader needs.
    }

    @Override
    public void leaveAppend() {
        // As above.
    }
}
