package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Writes a batch of decisions that arrived together ({@link GroupCommit}) in one shared transaction, so that they
 * share its commit, the most expensive part of an append, and a decision that may not be stored fails alone,
 * inside that transaction, while the others commit. Internal: not part of Gyre's API.
 *
 * <p>One decision per stream shares the transaction (two for one stream cannot both succeed); the rest, and
 * decisions too large for one statement, are written alone after it. What usually keeps a decision out (its stream moved or lost its expected event, its
 * command id is decided) is checked by the statement that inserts its command row, which then writes nothing and
 * fails nothing ({@link DecisionRows}): its update count says so, and the transaction goes on. On PostgreSQL the
 * statements of one shape share a JDBC batch, one round trip for the group.
 *
 * <p>Savepoints are kept for what cannot be foreseen: a statement the database refuses with an error (a writer of
 * the same stream that committed while this one waited for its key, an event id used before, data it cannot
 * hold, a statement timeout), which on PostgreSQL aborts the whole transaction. Then the transaction is rolled
 * back and written once more, each decision behind a savepoint of its own, so that the refused one is rolled back
 * alone and the others still commit together. A savepoint for every decision on the common path was measured
 * against update counts (GroupTransactionBenchmark, in gyre-examples): on PostgreSQL a savepoint costs two round
 * trips and a subtransaction per decision, which made a group several times slower, while an update count costs
 * nothing. Beyond 64 written savepoints a PostgreSQL transaction's subtransactions also overflow their cache in
 * shared memory and slow every snapshot on the server while it runs, one more reason to keep them off the common
 * path.
 *
 * <p>Only a lost connection or a failed commit fails the whole transaction: then nothing may be written alone,
 * since the outcome is unknown or the database is gone.
 *
 * <p>Streams are written in one fixed order, each stream's command row and events together, so that two
 * transactions waiting on each other's keys wait in the same order and never deadlock.
 */
public final class GroupAppender implements GroupCommit.Flush<AppendRequest> {

    /** Streams in the order in which a shared transaction writes them. */
    private static final Comparator<StreamId> STREAM_ORDER = Comparator.comparing(StreamId::aggregateType)
            .thenComparing(StreamId::aggregateId);

    private final Connections connections;
    private final DecisionRows rows;
    private final Appender appender;
    private final GlobalLog log;
    private final ConflictDiagnosis diagnosis;
    private final Failures failures;

    /**
     * @param connections where connections come from
     * @param rows        writes a decision's rows
     * @param appender    writes the decisions that cannot share the transaction
     * @param log         the global log, which appends enter and leave around their transaction
     * @param diagnosis   tells why a decision was not stored
     * @param failures    translates driver errors
     */
    public GroupAppender(Connections connections, DecisionRows rows, Appender appender, GlobalLog log,
                         ConflictDiagnosis diagnosis, Failures failures) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.rows = Objects.requireNonNull(rows, "rows");
        this.appender = Objects.requireNonNull(appender, "appender");
        this.log = Objects.requireNonNull(log, "log");
        this.diagnosis = Objects.requireNonNull(diagnosis, "diagnosis");
        this.failures = Objects.requireNonNull(failures, "failures");
    }

    @Override
    public List<@Nullable RuntimeException> write(List<AppendRequest> batch) {
        return write(batch, (Deadline) null);
    }

    /** As {@link #write(List)}, with every transaction bounded by the caller's deadline ({@link CallerDeadline}). */
    @Override
    public List<@Nullable RuntimeException> write(List<AppendRequest> batch, @Nullable Deadline deadline) {
        Connection connection;
        try {
            connection = CallerDeadline.applies(connections, deadline) ? ConnectionWait.open(connections, deadline)
                    : connections.open();
        } catch (SQLException e) {
            return failAll(batch, e);
        } catch (ConnectionWait.DeadlinePassed e) {
            // Nothing was written: the caller's request fails so, and the group commit queues the others again.
            List<@Nullable RuntimeException> outcomes = new ArrayList<>(batch.size());
            batch.forEach(request -> outcomes.add(CallerDeadline.noConnection(Appender.describe(request), deadline,
                    e)));
            return outcomes;
        }
        try {
            Map<StreamId, AppendRequest> shared = new TreeMap<>(STREAM_ORDER);
            List<AppendRequest> alone = new ArrayList<>();
            for (AppendRequest request : batch) {
                // A decision of more events than one statement takes is written in chunks, in a transaction of its
                // own, so that a huge append never holds a group's shared transaction open.
                if (request.events().size() > DecisionRows.MAX_ROWS_PER_STATEMENT
                        || shared.putIfAbsent(request.stream(), request) != null) {
                    alone.add(request);
                }
            }
            Map<AppendRequest, @Nullable RuntimeException> outcomes = new IdentityHashMap<>();
            if (shared.size() > 1) {
                List<AppendRequest> together = new ArrayList<>(shared.values());
                List<Written> written;
                try {
                    written = writeTogether(connection, together, deadline);
                } catch (SharedTransactionFailed e) {
                    return e.cutAtDeadline ? notStored(batch, e.cause) : failAll(batch, e.cause);
                }
                for (int i = 0; i < together.size(); i++) {
                    AppendRequest request = together.get(i);
                    Written each = written.get(i);
                    outcomes.put(request, each.stored() ? null : each.refusal() == null
                            ? diagnosis.notStored(connection, request) : each.cancelledByDatabase()
                            ? CallerDeadline.cancelledByDatabase(Appender.describe(request), each.refusal())
                            : diagnosis.refused(connection, request, each.refusal()));
                }
            } else {
                alone.addAll(0, shared.values());
            }
            for (AppendRequest request : alone) {
                try {
                    appender.writeAlone(connection, request, deadline);
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

    /** A request that a caller's deadline cut was rolled back, so the group commit may have it written again. */
    @Override
    public boolean cutAtDeadline(RuntimeException failure) {
        return CallerDeadline.isCut(failure);
    }

    /** The shared transaction's statement was cancelled at the caller's deadline and rolled back. */
    private static List<@Nullable RuntimeException> notStored(List<AppendRequest> batch, SQLException cause) {
        List<@Nullable RuntimeException> outcomes = new ArrayList<>(batch.size());
        batch.forEach(request -> outcomes.add(CallerDeadline.notStored(Appender.describe(request), cause)));
        return outcomes;
    }

    private List<@Nullable RuntimeException> failAll(List<AppendRequest> batch, SQLException cause) {
        List<@Nullable RuntimeException> outcomes = new ArrayList<>(batch.size());
        batch.forEach(request -> outcomes.add(failures.of(Appender.describe(request), cause)));
        return outcomes;
    }

    /**
     * What became of one decision of the shared transaction, once it committed.
     *
     * @param stored  true when its rows are in
     * @param refusal the error the database refused it with, or null when it was not stored for a check of its
     *                statement (or was stored)
     * @param cancelledByDatabase true when the refusal is a cancel the database sent on its own (its
     *                statement_timeout), not one at a timeout the store set
     */
    private record Written(boolean stored, @Nullable SQLException refusal, boolean cancelledByDatabase) {
        static final Written STORED = new Written(true, null, false);
        static final Written NOT_STORED = new Written(false, null, false);

        static Written of(boolean stored) {
            return stored ? STORED : NOT_STORED;
        }
    }

    /** The shared transaction failed in a way that leaves the outcome unknown or the connection unusable. */
    private static final class SharedTransactionFailed extends Exception {
        private static final long serialVersionUID = 1L;
        private final SQLException cause;
        private final boolean cutAtDeadline;

        SharedTransactionFailed(SQLException cause) {
            this(cause, false);
        }

        /** @param cutAtDeadline true when the caller's deadline cancelled a statement: rolled back, nothing stored */
        SharedTransactionFailed(SQLException cause, boolean cutAtDeadline) {
            super(cause);
            this.cause = cause;
            this.cutAtDeadline = cutAtDeadline;
        }
    }

    /**
     * @return one outcome per decision, in order, all committed
     * @throws SharedTransactionFailed the connection failed, a rollback failed, or the commit failed
     */
    private List<Written> writeTogether(Connection connection, List<AppendRequest> requests,
                                        @Nullable Deadline deadline) throws SharedTransactionFailed {
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
        boolean committed = false;
        try (StatementCache statements = new StatementCache(connections, connection, deadline)) {
            List<Written> written;
            try {
                written = writeAll(statements, requests);
            } catch (SQLException e) {
                rollback(connection, e);
                // Cancelled at the caller's deadline: rolled back, so nothing is stored; and there is no time left
                // to write the group again behind savepoints.
                // (A cancel the database sent on its own, its statement_timeout, is a refusal like another: the
                // decisions are written again each behind a savepoint, and the one it cancels again fails alone.)
                boolean cut = statements.cutAtDeadline(e);
                if (SqlErrors.isConnectionFailure(e) || cut) {
                    throw new SharedTransactionFailed(e, cut);
                }
                written = writeEachBehindSavepoint(statements, requests);
            }
            try {
                connection.commit();
            } catch (SQLException e) {
                throw new SharedTransactionFailed(e);
            }
            committed = true;
            return written;
        } finally {
            if (!committed) {
                // Whatever left the transaction unfinished, none of it may commit when auto-commit comes back on.
                try {
                    connection.rollback();
                } catch (SQLException ignored) {
                    // The connection is broken or the transaction over; the failure being thrown says why.
                }
            }
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

    private static void rollback(Connection connection, Exception failure) throws SharedTransactionFailed {
        try {
            connection.rollback();
        } catch (SQLException rollback) {
            failure.addSuppressed(rollback);
            throw new SharedTransactionFailed(rollback);
        }
    }

    /**
     * The common path: every decision's statements, those of one shape in one JDBC batch on PostgreSQL, each
     * telling by its update count whether it was stored.
     */
    private List<Written> writeAll(StatementCache statements, List<AppendRequest> requests) throws SQLException {
        List<Written> written = new ArrayList<>(requests.size());
        int i = 0;
        while (i < requests.size()) {
            AppendRequest first = requests.get(i);
            String single = rows.singleStatement(first);
            if (single == null) {
                written.add(Written.of(rows.write(statements, first)));
                i++;
                continue;
            }
            PreparedStatement batch = statements.get(single);
            int j = i;
            for (; j < requests.size() && single.equals(rows.singleStatement(requests.get(j))); j++) {
                rows.bindSingle(batch, requests.get(j));
                batch.addBatch();
            }
            int[] counts = batch.executeBatch();
            for (int k = i; k < j; k++) {
                written.add(Written.of(rows.written(requests.get(k), counts[k - i])));
            }
            i = j;
        }
        return written;
    }

    /**
     * After a statement failed: every decision again, in a new transaction, each behind a savepoint, so that one
     * the database refuses is rolled back alone.
     *
     * @throws SharedTransactionFailed when the connection fails
     */
    private List<Written> writeEachBehindSavepoint(StatementCache statements, List<AppendRequest> requests)
            throws SharedTransactionFailed {
        Connection connection = statements.connection();
        List<Written> written = new ArrayList<>(requests.size());
        for (AppendRequest request : requests) {
            Savepoint savepoint;
            try {
                savepoint = connection.setSavepoint();
            } catch (SQLException e) {
                throw new SharedTransactionFailed(e);
            }
            try {
                boolean stored = rows.write(statements, request);
                connection.releaseSavepoint(savepoint);
                written.add(Written.of(stored));
            } catch (SQLException refused) {
                boolean cut = statements.cutAtDeadline(refused);
                if (SqlErrors.isConnectionFailure(refused) || cut) {
                    // The caller's deadline has passed: the whole transaction is rolled back (not committed).
                    throw new SharedTransactionFailed(refused, cut);
                }
                try {
                    connection.rollback(savepoint);
                } catch (SQLException e) {
                    refused.addSuppressed(e);
                    throw new SharedTransactionFailed(e);
                }
                written.add(new Written(false, refused,
                        CallerDeadline.isCancel(refused) && !statements.cancelledByBound(refused)));
            }
        }
        return written;
    }
}
