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
 * look (at most once a second), which reports the first and refuses the second. Internal: not part of Gyre's API.
 */
public final class PostgresGlobalLog implements GlobalLog {

    private final Connections connections;
    private final Failures failures;
    private final PostgresLogWatch watch;

    /**
     * @param connections where connections come from
     * @param failures    translates driver errors
     * @param watch       looks for a stall or a restore when a batch does not fill up
     */
    public PostgresGlobalLog(Connections connections, Failures failures, PostgresLogWatch watch) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.watch = Objects.requireNonNull(watch, "watch");
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
            return batch;
        } catch (SQLException e) {
            throw failures.of("Reading the global log after " + after, e);
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
