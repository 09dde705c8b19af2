package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Writes a batch of decisions that arrived together ({@link GroupCommit}) in one shared transaction, so that they
 * share its commit, the most expensive part of an append. Internal: not part of Gyre's API.
 *
 * <p>One decision per stream shares the transaction (two for one stream cannot both succeed); the rest are
 * written alone. When a decision of the shared transaction is refused by the database (a conflict, a re-sent
 * command, data the database rejects, a statement timeout) the transaction rolls back and each of its decisions is
 * written alone, so that each caller gets its own outcome. A decision without events whose stream has moved
 * stores nothing and fails no statement: it is told so, and the others commit. Only a lost connection or a failed
 * commit fails the whole transaction: then nothing may be written alone, since the outcome is unknown or the
 * database is gone.
 *
 * <p>Streams are written in one fixed order, so that two transactions waiting on each other's keys wait in the
 * same order and never deadlock: on PostgreSQL each stream's command and event rows together, on H2 every command
 * row first and then every event row (so every H2 transaction takes command keys before event keys).
 */
public final class GroupAppender implements GroupCommit.Flush<AppendRequest> {

    /** Streams in the order in which a shared transaction writes them. */
    private static final Comparator<StreamId> STREAM_ORDER = Comparator.comparing(StreamId::aggregateType)
            .thenComparing(StreamId::aggregateId);

    private final Connections connections;
    private final Appender appender;
    private final GlobalLog log;
    private final ConflictDiagnosis diagnosis;
    private final Failures failures;

    /**
     * @param connections where connections come from
     * @param appender    writes the decisions that cannot share the transaction, or that it refused
     * @param log         the global log, which appends enter and leave around their transaction
     * @param diagnosis   tells why a decision without events was not stored
     * @param failures    translates driver errors
     */
    public GroupAppender(Connections connections, Appender appender, GlobalLog log, ConflictDiagnosis diagnosis,
                         Failures failures) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.appender = Objects.requireNonNull(appender, "appender");
        this.log = Objects.requireNonNull(log, "log");
        this.diagnosis = Objects.requireNonNull(diagnosis, "diagnosis");
        this.failures = Objects.requireNonNull(failures, "failures");
    }

    @Override
    public List<@Nullable RuntimeException> write(List<AppendRequest> batch) {
        Connection connection;
        try {
            connection = connections.open();
        } catch (SQLException e) {
            return failAll(batch, e);
        }
        try {
            Map<StreamId, AppendRequest> shared = new TreeMap<>(STREAM_ORDER);
            List<AppendRequest> alone = new ArrayList<>();
            if (batch.size() > 1) {
                for (AppendRequest request : batch) {
                    if (shared.putIfAbsent(request.stream(), request) != null) {
                        alone.add(request);
                    }
                }
            } else {
                alone.addAll(batch);
            }
            Map<AppendRequest, @Nullable RuntimeException> outcomes = new IdentityHashMap<>();
            if (shared.size() > 1) {
                try {
                    List<AppendRequest> notStored = writeTogether(connection, shared.values());
                    shared.values().forEach(request -> outcomes.put(request, null));
                    for (AppendRequest request : notStored) {
                        outcomes.put(request, diagnosis.decisionNotStored(connection, request));
                    }
                } catch (SharedTransactionFailed e) {
                    return failAll(batch, e.cause);
                } catch (SQLException e) {
                    alone.addAll(0, shared.values());
                }
            } else {
                alone.addAll(0, shared.values());
            }
            for (AppendRequest request : alone) {
                try {
                    appender.writeAlone(connection, request);
                    outcomes.put(request, null);
                } catch (RuntimeException e) {
                    outcomes.put(request, e);
                }
            }
            List<@Nullable RuntimeException> ordered = new ArrayList<>(batch.size());
            batch.forEach(request -> ordered.add(outcomes.get(request)));
            return ordered;
        } finally {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // The outcomes are known; a pool that cannot take its connection back changes none of them.
            }
        }
    }

    private List<@Nullable RuntimeException> failAll(List<AppendRequest> batch, SQLException cause) {
        List<@Nullable RuntimeException> outcomes = new ArrayList<>(batch.size());
        batch.forEach(request -> outcomes.add(failures.of(Appender.describe(request), cause)));
        return outcomes;
    }

    /** The shared transaction failed in a way that leaves the outcome unknown or the connection unusable. */
    private static final class SharedTransactionFailed extends Exception {
        private static final long serialVersionUID = 1L;
        private final SQLException cause;

        SharedTransactionFailed(SQLException cause) {
            super(cause);
            this.cause = cause;
        }
    }

    /**
     * @return the decisions without events that were not stored because their stream had moved
     * @throws SQLException             a decision was refused before the commit, and the transaction rolled back
     * @throws SharedTransactionFailed  the connection failed, the rollback failed, or the commit failed
     */
    private List<AppendRequest> writeTogether(Connection connection, Collection<AppendRequest> ordered)
            throws SQLException, SharedTransactionFailed {
        boolean autoCommit;
        try {
            autoCommit = connection.getAutoCommit();
            if (autoCommit) {
                connection.setAutoCommit(false);
            }
        } catch (SQLException e) {
            throw new SharedTransactionFailed(e);
        }
        log.enterAppend();
        try {
            List<AppendRequest> notStored;
            try {
                notStored = connections.postgres() ? writeAllPostgres(connection, ordered)
                        : writeAllH2(connection, ordered);
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                    throw new SharedTransactionFailed(rollback);
                }
                if (e instanceof SQLException failed && SqlErrors.isConnectionFailure(failed)) {
                    throw new SharedTransactionFailed(failed);
                }
                throw e;
            }
            try {
                connection.commit();
            } catch (SQLException e) {
                throw new SharedTransactionFailed(e);
            }
            return notStored;
        } finally {
            log.leaveAppend();
            if (autoCommit) {
                try {
                    connection.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // The transaction is over either way; the pool resets the connection when it comes back.
                }
            }
        }
    }

    /**
     * PostgreSQL: one statement per stream, the command row with its events; consecutive decisions with the same
     * number of events share a JDBC batch, one round trip. A decision without events runs on its own, since its
     * update count tells whether it was stored.
     */
    private List<AppendRequest> writeAllPostgres(Connection connection, Collection<AppendRequest> ordered)
            throws SQLException {
        List<AppendRequest> requests = new ArrayList<>(ordered);
        List<AppendRequest> notStored = new ArrayList<>();
        int i = 0;
        while (i < requests.size()) {
            AppendRequest first = requests.get(i);
            if (first.decisionOnly()) {
                if (!appender.executeDecision(connection, first)) {
                    notStored.add(first);
                }
                i++;
                continue;
            }
            int rows = first.events().size();
            try (PreparedStatement insert = connections.prepare(connection,
                    connections.sql().insertCommandWithEvents(rows))) {
                int j = i;
                for (; j < requests.size() && !requests.get(j).decisionOnly()
                        && requests.get(j).events().size() == rows; j++) {
                    AppendRequest request = requests.get(j);
                    int next = Statements.bindCommand(insert, 1, request);
                    Statements.bindEvents(insert, next, request, request.events(), request.expected().lastSequence());
                    insert.addBatch();
                }
                insert.executeBatch();
                i = j;
            }
        }
        return notStored;
    }

    /** H2: the command rows and decisions first, then the event rows, each in stream order. */
    private List<AppendRequest> writeAllH2(Connection connection, Collection<AppendRequest> ordered)
            throws SQLException {
        List<AppendRequest> requests = new ArrayList<>(ordered);
        List<AppendRequest> notStored = new ArrayList<>();
        int i = 0;
        while (i < requests.size()) {
            AppendRequest first = requests.get(i);
            if (first.decisionOnly()) {
                if (!appender.executeDecision(connection, first)) {
                    notStored.add(first);
                }
                i++;
                continue;
            }
            try (PreparedStatement insert = connections.prepare(connection, connections.sql().insertCommand())) {
                int j = i;
                for (; j < requests.size() && !requests.get(j).decisionOnly(); j++) {
                    Statements.bindCommand(insert, 1, requests.get(j));
                    insert.addBatch();
                }
                insert.executeBatch();
                i = j;
            }
        }
        List<AppendRequest> withEvents = requests.stream().filter(request -> !request.decisionOnly()).toList();
        i = 0;
        while (i < withEvents.size()) {
            int rows = withEvents.get(i).events().size();
            try (PreparedStatement insert = connections.prepare(connection, connections.sql().insertEvents(rows))) {
                int j = i;
                for (; j < withEvents.size() && withEvents.get(j).events().size() == rows; j++) {
                    AppendRequest request = withEvents.get(j);
                    Statements.bindEvents(insert, 1, request, request.events(), request.expected().lastSequence());
                    insert.addBatch();
                }
                insert.executeBatch();
                i = j;
            }
        }
        return notStored;
    }
}
