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
 * H2's global log, behind a commit gate ({@link CommitOrderGate}): appends hold its shared side from insert to
 * commit, and a reader takes it exclusively just long enough to read the highest position; everything up to that
 * horizon has committed or rolled back, so the reader reads up to it and no further. The gate lives in the JVM,
 * which is why one H2 database must not be shared by several processes. Internal: not part of Gyre's API.
 */
public final class H2GlobalLog implements GlobalLog {

    private final Connections connections;
    private final Failures failures;
    private final CommitOrderGate gate;

    /**
     * @param connections where connections come from
     * @param failures    translates driver errors
     * @param gate        the gate of the database, shared by every store on it in this JVM
     */
    public H2GlobalLog(Connections connections, Failures failures, CommitOrderGate gate) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.gate = Objects.requireNonNull(gate, "gate");
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        try (Connection connection = connections.open()) {
            long horizon = gate.horizon(() -> {
                try (PreparedStatement query = connection.prepareStatement(connections.sql().highestPosition());
                     ResultSet rows = query.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                } catch (SQLException e) {
                    throw failures.of("Reading the highest position of the global log", e);
                }
            });
            try (PreparedStatement query = connections.prepare(connection, connections.sql().readAllH2())) {
                query.setLong(1, after.position());
                query.setLong(2, horizon);
                query.setInt(3, maxCount);
                List<TrackedEvent> batch = new ArrayList<>();
                Statements.RepeatedNames names = new Statements.RepeatedNames();
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        StoredEvent event = Statements.event(rows, names);
                        batch.add(new TrackedEvent(event, TrackingToken.at(event.position())));
                    }
                }
                return batch;
            }
        } catch (SQLException e) {
            throw failures.of("Reading the global log after " + after, e);
        }
    }

    @Override
    public void enterAppend() {
        gate.enterAppend();
    }

    @Override
    public void leaveAppend() {
        gate.leaveAppend();
    }
}
