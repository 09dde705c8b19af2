package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.PayloadTooLargeException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.internal.CommitOrderGate;
import io.gyre.eventstore.jdbc.internal.GroupCommit;
import io.gyre.eventstore.jdbc.internal.KnownStreamHeads;
import io.gyre.eventstore.jdbc.internal.SchemaManager;
import io.gyre.eventstore.jdbc.internal.SqlErrors;
import io.gyre.eventstore.jdbc.internal.Statements;
import io.gyre.serialization.SerializedValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The event store over JDBC, for PostgreSQL 14+ (shared by every node of a cluster) and H2 2.x (embedded in one
 * process; the default that needs no set-up).
 *
 * <pre>{@code
 * EventStore embedded = JdbcEventStore.h2(Path.of("data/events"));          // creates data/events.mv.db
 * EventStore shared   = JdbcEventStore.postgres(dataSource);                // any pooled DataSource
 * EventStore custom   = JdbcEventStore.builder(dataSource)
 *         .tableNames(TableNames.withPrefix("bank_")).createSchema(false).build();
 * }</pre>
 *
 * <h2>Appending</h2>
 * A stream is named by its aggregate type and id ({@link StreamId}). A command's decision is stored atomically:
 * its row in the commands table, keyed by (aggregate type, aggregate id, command id), with its outcome, and its
 * events. On PostgreSQL both go in one statement (one round trip); on H2, which runs inside the process, in two
 * statements of one transaction. The unique key on (aggregate type, aggregate id, sequence number) refuses a
 * second writer of a sequence number, and the command key refuses a second decision on a command id, whichever
 * delivery of it commits first: the other gets a {@link DuplicateCommandException} carrying the stored decision.
 * When the caller expects a last sequence number, that event must exist, so a stream can never get a gap: events
 * are never deleted, so the store checks this before inserting, and only for an event it has not itself
 * appended or read recently; in the usual load-decide-append cycle the INSERT is all it sends.
 *
 * <p>A decision without events (a refusal, or a result that changed nothing) is one conditional INSERT into the
 * commands table, which inserts its row only if the expected event exists and the one after it does not, checked
 * by the same statement; otherwise nothing is stored and the caller gets a {@link ConcurrencyConflictException}
 * (or the {@link DuplicateCommandException} of an earlier decision, which is reported first).
 *
 * <p>Concurrent appends share transactions (group commit): an append that arrives while
 * {@link Builder#appendTransactions(int)} transactions are writing waits for the next one, which writes every
 * append then waiting, up to {@link Builder#maxAppendsPerTransaction(int)} and one per stream, decisions without
 * events included. An append that
 * finds a transaction free is written at once, with whatever was already waiting. When one append of a group is
 * refused, the transaction rolls back and each of its appends is written alone, so that every caller gets its
 * own outcome; only a lost connection or a failed commit fails them all (a failed commit leaves the outcome
 * unknown: a re-sent command is then stored, or reported as a {@link DuplicateCommandException}).
 *
 * <p>A duplicate-key error is recognised on both databases wherever the driver puts it (PostgreSQL's SQLState
 * 23505 may come inside a {@code BatchUpdateException}), and told apart by looking up what the keys guard: a
 * stored decision of the command, a stream that moved past the expected sequence ({@link
 * ConcurrencyConflictException}), or else an event id used before ({@link EventRejectedException}); other failures
 * become a transient {@link JdbcEventStoreException} with the driver's SQLState, or a non-transient
 * {@link EventRejectedException} / {@link EventStoreSchemaException} when the data or schema is at fault.
 *
 * <h2>Following the global log without skipping late commits</h2>
 * Global positions come from an identity column and are handed out when rows are inserted, not when they
 * commit: position 8 can be visible while position 7's transaction is still open, and 7 may commit later or
 * roll back and never appear. A reader that moves past 8 must not lose 7, and must not wait for ever for a 7
 * that rolled back.
 * <ul>
 *   <li>PostgreSQL: every row records its inserting transaction ({@code pg_current_xact_id()}). Readers order
 *       the log by (transaction id, position) and read only rows of transactions older than the oldest
 *       transaction still running ({@code pg_snapshot_xmin(pg_current_snapshot())}, evaluated in the query's
 *       own snapshot). Every such transaction has finished, so that part of the log is final: a transaction that
 *       commits late is read when it finishes, in its place, and a rolled-back one simply never appears. A long
 *       transaction anywhere on the server delays readers (never appenders) until it ends.</li>
 *   <li>H2: appends hold a shared JVM lock from insert to commit, and a reader takes it exclusively just long
 *       enough to read the highest position; everything up to that horizon has committed or rolled back. This
 *       is why one H2 database must not be shared by several processes: use PostgreSQL for a cluster.</li>
 * </ul>
 *
 * <h2>Reading a stream</h2>
 * Streams are read in pages of {@link Builder#readBatchSize(int)} events, each page its own query, so a long
 * stream loads in constant memory and an abandoned stream holds no connection.
 *
 * <p>Thread-safe.
 */
public final class JdbcEventStore implements EventStore {

    /** Events per INSERT statement; above it a command's events are inserted in one transaction. */
    private static final int MAX_ROWS_PER_STATEMENT = 500;
    /** Streams whose last known event is remembered, about 150 bytes each. */
    private static final int KNOWN_STREAM_HEADS = 100_000;

    private final DataSource dataSource;
    private final Dialect dialect;
    private final TableNames tables;
    private final Statements sql;
    private final int readBatchSize;
    private final long maxEventBytes;
    private final int queryTimeoutSeconds;  // 0: none set by the store
    private final @Nullable CommitOrderGate gate;
    private final KnownStreamHeads heads = new KnownStreamHeads(KNOWN_STREAM_HEADS);
    private final @Nullable GroupCommit<AppendRequest> groupCommit;
    private final @Nullable AutoCloseable ownedPool;

    private JdbcEventStore(Builder builder, Dialect dialect, @Nullable CommitOrderGate gate) {
        this.dataSource = builder.dataSource;
        this.dialect = dialect;
        this.tables = builder.tables;
        this.sql = new Statements(dialect == Dialect.POSTGRES, builder.tables);
        this.readBatchSize = builder.readBatchSize;
        this.maxEventBytes = builder.maxEventBytes;
        this.queryTimeoutSeconds = builder.queryTimeout == null ? 0 : (int) builder.queryTimeout.toSeconds();
        this.gate = gate;
        this.ownedPool = builder.ownedPool;
        this.groupCommit = builder.maxAppendsPerTransaction == 1 ? null
                : new GroupCommit<>(this::writeBatch, builder.maxAppendsPerTransaction, builder.appendTransactions);
    }

    /**
     * An embedded H2 store in a file, created with its schema on first use: nothing to install. The store owns
     * its connection pool and closes it on {@link #close()}. Only this process may open the file.
     *
     * <p>Every commit is written to the file before it is acknowledged, and H2 reuses the space of old versions
     * only after 45 seconds, so under thousands of commits a second the file grows by hundreds of megabytes
     * beyond its data (the bank demo's 20,000 commands leave about 240 MB). Shortening H2's retention time is
     * not offered: files kept with no retention have been reported unreadable after reopening (H2 issues 2752
     * and 4083).
     *
     * @param file the database file without extension ({@code data/events} makes {@code data/events.mv.db});
     *             parent folders are created
     * @return the started store
     * @throws JdbcEventStoreException when the file cannot be opened (for example, another process holds it)
     */
    public static JdbcEventStore h2(Path file) {
        Objects.requireNonNull(file, "file");
        Path absolute = file.toAbsolutePath().normalize();
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("Cannot create the folder of H2 database " + absolute + ": " + e, e);
        }
        // WRITE_DELAY=0 writes each commit to the file before acknowledging it, so a killed process loses no
        // acknowledged event; H2's default would keep up to half a second of commits in memory.
        String url = "jdbc:h2:file:" + absolute + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000";
        org.h2.jdbcx.JdbcConnectionPool pool = org.h2.jdbcx.JdbcConnectionPool.create(url, "sa", "");
        pool.setMaxConnections(64);
        Builder builder = builder(pool).dialect(Dialect.H2).createSchema(true);
        builder.ownedPool = pool::dispose;
        return builder.build();
    }

    /**
     * A PostgreSQL store over a pooled data source (HikariCP or similar), creating its schema if missing.
     * The data source stays the caller's to close.
     *
     * @param dataSource a pooled data source for PostgreSQL 14 or later
     * @return the started store
     * @throws JdbcEventStoreException   when the database cannot be reached
     * @throws EventStoreSchemaException when the schema cannot be created
     */
    public static JdbcEventStore postgres(DataSource dataSource) {
        return builder(dataSource).dialect(Dialect.POSTGRES).createSchema(true).build();
    }

    /**
     * @param dataSource a pooled data source
     * @return a builder; the dialect is detected from the database unless set
     */
    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /** @return the database dialect */
    public Dialect dialect() {
        return dialect;
    }

    /** @return the table names */
    public TableNames tableNames() {
        return tables;
    }

    @Override
    public AppendResult append(AppendRequest request) {
        Objects.requireNonNull(request, "request");
        checkSizes(request);
        ExpectedSequence expected = request.expected();
        if (expected instanceof ExpectedSequence.Any) {
            return appendAfterWhateverIsStored(request);
        }
        long lastSequence = expected.lastSequence();
        StreamId stream = request.stream();
        // A decision without events checks its expected event inside its own statement.
        if (!request.decisionOnly() && lastSequence >= 0 && !heads.reaches(stream, lastSequence)) {
            try (Connection connection = dataSource.getConnection()) {
                checkExpectedEventExists(connection, request);
            } catch (SQLException e) {
                throw failure(describe(request), e);
            }
        }
        if (groupCommit != null && request.events().size() <= MAX_ROWS_PER_STATEMENT) {
            groupCommit.submit(request);
        } else {
            try (Connection connection = dataSource.getConnection()) {
                writeAlone(connection, request);
            } catch (SQLException e) {
                throw failure(describe(request), e);
            }
        }
        long last = lastSequence + request.events().size();
        if (last >= 0) {
            heads.advance(stream, last);
        }
        return new AppendResult(lastSequence + 1, last);
    }

    /**
     * Writes a batch of appends that arrived together ({@link GroupCommit}): one append per stream shares a
     * transaction (two for one stream cannot both succeed), the rest are written alone. When an append of the
     * shared transaction is refused (a conflict, a re-sent command, data the database rejects, a statement
     * timeout) the transaction rolls back and each of its appends is written alone, so that each caller gets its
     * own outcome. A decision without events whose stream has moved stores nothing and fails no statement: it is
     * told so and the others commit. Only a lost connection or a failed commit fails the whole transaction: then
     * nothing may be written alone, since the outcome is unknown or the database is gone.
     */
    private List<@Nullable RuntimeException> writeBatch(List<AppendRequest> batch) {
        Connection connection;
        try {
            connection = dataSource.getConnection();
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
                        outcomes.put(request, decisionNotStored(connection, request));
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
                    writeAlone(connection, request);
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

    /** Streams in a fixed order, the order in which a shared transaction writes them. */
    private static final Comparator<StreamId> STREAM_ORDER = Comparator.comparing(StreamId::aggregateType)
            .thenComparing(StreamId::aggregateId);

    private List<@Nullable RuntimeException> failAll(List<AppendRequest> batch, SQLException cause) {
        List<@Nullable RuntimeException> outcomes = new ArrayList<>(batch.size());
        batch.forEach(request -> outcomes.add(failure(describe(request), cause)));
        return outcomes;
    }

    /**
     * Translates a driver error, and forgets every known stream head when the database failed as a whole: a
     * fail-over to a replica that lags, or a restore, may have lost events this store saw committed.
     */
    private RuntimeException failure(String operation, SQLException cause) {
        if (SqlErrors.isConnectionFailure(cause)) {
            heads.clear();
        }
        return SqlErrors.translate(operation, cause);
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

    /** Writes one decision in a transaction of its own, and reports a refusal precisely. */
    private void writeAlone(Connection connection, AppendRequest request) {
        if (request.decisionOnly()) {
            writeDecisionAlone(connection, request);
            return;
        }
        SQLException refused;
        if (gate != null) {
            gate.enterAppend();
        }
        try {
            insertWithEvents(connection, request);
            return;
        } catch (SQLException e) {
            refused = e;
        } finally {
            if (gate != null) {
                gate.leaveAppend();
            }
        }
        if (SqlErrors.isUniqueViolation(refused)) {
            throw diagnose(connection, request, refused);
        }
        throw failure(describe(request), refused);
    }

    private void writeDecisionAlone(Connection connection, AppendRequest request) {
        boolean stored;
        try {
            stored = insertDecision(connection, request);
        } catch (SQLException e) {
            if (SqlErrors.isUniqueViolation(e)) {
                throw diagnose(connection, request, e);
            }
            throw failure(describe(request), e);
        }
        if (!stored) {
            throw decisionNotStored(connection, request);
        }
    }

    /**
     * Writes the appends of different streams in one transaction, each stream's rows together, streams in
     * {@link #STREAM_ORDER} (so that two transactions waiting on each other's keys wait in the same order and never
     * deadlock); consecutive appends with the same statement share a JDBC batch, one round trip.
     *
     * @return the decisions without events that were not stored because their stream had moved
     * @throws SQLException             an append was refused before the commit, and the transaction rolled back
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
        if (gate != null) {
            gate.enterAppend();
        }
        try {
            List<AppendRequest> notStored;
            try {
                notStored = sql.postgres() ? writeAllPostgres(connection, ordered) : writeAllH2(connection, ordered);
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
            if (gate != null) {
                gate.leaveAppend();
            }
            if (autoCommit) {
                try {
                    connection.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // The transaction is over either way; the pool resets the connection when it comes back.
                }
            }
        }
    }

    /** PostgreSQL: one statement per append, the command row and its events together. */
    private List<AppendRequest> writeAllPostgres(Connection connection, Collection<AppendRequest> ordered)
            throws SQLException {
        List<AppendRequest> requests = new ArrayList<>(ordered);
        List<AppendRequest> notStored = new ArrayList<>();
        int i = 0;
        while (i < requests.size()) {
            AppendRequest first = requests.get(i);
            if (first.decisionOnly()) {
                if (!executeDecision(connection, first)) {
                    notStored.add(first);
                }
                i++;
                continue;
            }
            int rows = first.events().size();
            try (PreparedStatement insert = connection.prepareStatement(sql.insertCommandWithEvents(rows))) {
                applyTimeout(insert);
                int j = i;
                for (; j < requests.size() && !requests.get(j).decisionOnly()
                        && requests.get(j).events().size() == rows; j++) {
                    AppendRequest request = requests.get(j);
                    int next = bindCommand(insert, 1, request);
                    bindEvents(insert, next, request, request.events(), request.expected().lastSequence());
                    insert.addBatch();
                }
                insert.executeBatch();
                i = j;
            }
        }
        return notStored;
    }

    /**
     * H2: the command rows and decisions first, then the event rows, each in stream order: every transaction
     * takes command keys before event keys, so two of them never wait on each other in a cycle.
     */
    private List<AppendRequest> writeAllH2(Connection connection, Collection<AppendRequest> ordered)
            throws SQLException {
        List<AppendRequest> requests = new ArrayList<>(ordered);
        List<AppendRequest> notStored = new ArrayList<>();
        int i = 0;
        while (i < requests.size()) {
            AppendRequest first = requests.get(i);
            if (first.decisionOnly()) {
                if (!executeDecision(connection, first)) {
                    notStored.add(first);
                }
                i++;
                continue;
            }
            try (PreparedStatement insert = connection.prepareStatement(sql.insertCommand())) {
                applyTimeout(insert);
                int j = i;
                for (; j < requests.size() && !requests.get(j).decisionOnly(); j++) {
                    bindCommand(insert, 1, requests.get(j));
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
            try (PreparedStatement insert = connection.prepareStatement(sql.insertEvents(rows))) {
                applyTimeout(insert);
                int j = i;
                for (; j < withEvents.size() && withEvents.get(j).events().size() == rows; j++) {
                    AppendRequest request = withEvents.get(j);
                    bindEvents(insert, 1, request, request.events(), request.expected().lastSequence());
                    insert.addBatch();
                }
                insert.executeBatch();
                i = j;
            }
        }
        return notStored;
    }

    /**
     * Keeps streams contiguous: the unique key refuses a second writer of a sequence number, and this refuses a
     * writer ahead of the stream, whose expected last event does not exist. Events are never deleted, so an
     * event once seen stays, and checking before the insert is as good as checking inside it; the check costs a
     * query only for an event this store has not appended or read ({@link KnownStreamHeads}). A command already
     * decided is reported as such first, as the insert would have.
     */
    private void checkExpectedEventExists(Connection connection, AppendRequest request) throws SQLException {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        long actual = lastSequence(connection, stream);
        if (actual < expected) {
            Optional<CommandRecord> earlier = findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                throw new DuplicateCommandException(earlier.get());
            }
            throw new ConcurrencyConflictException(stream, expected, actual);
        }
        // Further along than expected: the insert fails on a unique key and tells a conflict from a re-sent
        // command.
        heads.advance(stream, actual);
    }

    /**
     * Writes a command's row and its events atomically, and commits: a data source that hands out connections
     * without auto-commit (common under Spring or JPA) would otherwise roll an acknowledged append back when the
     * connection returns to its pool. On PostgreSQL up to {@link #MAX_ROWS_PER_STATEMENT} events this is one
     * statement and, with auto-commit, one round trip.
     */
    private void insertWithEvents(Connection connection, AppendRequest request) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        if (autoCommit && sql.postgres() && request.events().size() <= MAX_ROWS_PER_STATEMENT) {
            insertRows(connection, request);
            return;
        }
        if (autoCommit) {
            connection.setAutoCommit(false);
        }
        try {
            insertRows(connection, request);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        } finally {
            if (autoCommit) {
                connection.setAutoCommit(true);
            }
        }
    }

    /** The command row, then the events in chunks of at most {@link #MAX_ROWS_PER_STATEMENT}. */
    private void insertRows(Connection connection, AppendRequest request) throws SQLException {
        List<EventData> events = request.events();
        long before = request.expected().lastSequence();
        int first = Math.min(events.size(), MAX_ROWS_PER_STATEMENT);
        if (sql.postgres()) {
            try (PreparedStatement insert = connection.prepareStatement(sql.insertCommandWithEvents(first))) {
                applyTimeout(insert);
                bindEvents(insert, bindCommand(insert, 1, request), request, events.subList(0, first), before);
                insert.executeUpdate();
            }
        } else {
            try (PreparedStatement insert = connection.prepareStatement(sql.insertCommand())) {
                applyTimeout(insert);
                bindCommand(insert, 1, request);
                insert.executeUpdate();
            }
            insertEvents(connection, request, events.subList(0, first), before);
        }
        for (int from = first; from < events.size(); from += MAX_ROWS_PER_STATEMENT) {
            insertEvents(connection, request, events.subList(from, Math.min(events.size(),
                    from + MAX_ROWS_PER_STATEMENT)), before + from);
        }
    }

    /** @param before the sequence number just before the chunk's first event */
    private void insertEvents(Connection connection, AppendRequest request, List<EventData> chunk, long before)
            throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(sql.insertEvents(chunk.size()))) {
            applyTimeout(insert);
            bindEvents(insert, 1, request, chunk, before);
            insert.executeUpdate();
        }
    }

    /**
     * Inserts a decision without events if its stream has not moved, and commits.
     *
     * @return true when stored, false when the stream's last event is no longer the expected one
     */
    private boolean insertDecision(Connection connection, AppendRequest request) throws SQLException {
        if (connection.getAutoCommit()) {
            return executeDecision(connection, request);
        }
        try {
            boolean stored = executeDecision(connection, request);
            connection.commit();
            return stored;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        }
    }

    /** @return true when the decision's row was inserted, false when its stream had moved */
    private boolean executeDecision(Connection connection, AppendRequest request) throws SQLException {
        long decidedAt = request.expected().lastSequence();
        try (PreparedStatement insert = connection.prepareStatement(sql.insertDecision(decidedAt < 0))) {
            applyTimeout(insert);
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
            return insert.executeUpdate() == 1;
        }
    }

    private static final String RESULT = "result";
    private static final String REFUSAL = "refusal";

    private static @Nullable SerializedValue resultOf(AppendRequest request) {
        if (request.outcome() instanceof CommandOutcome.Result result) {
            return result.value();
        }
        throw new IllegalArgumentException("a refusal stores no events, but " + describe(request) + " has some");
    }

    /**
     * Binds the row of a command that stored events: {@link Statements#PARAMETERS_PER_COMMAND} parameters.
     *
     * @return the next parameter index
     */
    private static int bindCommand(PreparedStatement insert, int from, AppendRequest request) throws SQLException {
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

    /** Binds a chunk of a command's events: {@link Statements#PARAMETERS_PER_EVENT} parameters each. */
    private static void bindEvents(PreparedStatement insert, int from, AppendRequest request, List<EventData> chunk,
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

    private AppendResult appendAfterWhateverIsStored(AppendRequest request) {
        // "any" promises no check, so a lost race is retried here rather than reported.
        for (int attempt = 1; ; attempt++) {
            long last = lastSequence(request.stream());
            try {
                return append(new AppendRequest(request.stream(), ExpectedSequence.exactly(last),
                        request.commandId(), request.events(), request.outcome()));
            } catch (ConcurrencyConflictException e) {
                if (attempt >= 20) {
                    throw e;
                }
            }
        }
    }

    /**
     * Why a unique key refused an append: the command is already decided (its record is what a re-sent command
     * is answered with; reported first, as the first decision on a command id is final), or the stream moved
     * past the expected sequence, or neither, which leaves an event id used before. The key that fired has
     * committed (a database waits for an uncommitted holder of a key to finish), so what it guards is visible.
     */
    private RuntimeException diagnose(Connection connection, AppendRequest request, SQLException e) {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        long actual;
        try {
            Optional<CommandRecord> earlier = findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return new DuplicateCommandException(earlier.get());
            }
            actual = lastSequence(connection, stream);
        } catch (SQLException lookup) {
            e.addSuppressed(lookup);
            return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, e);
        }
        if (actual == expected) {
            if (request.decisionOnly()) {
                // Only the command key can refuse a decision, and its holder is gone: it rolled back after all.
                return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, e);
            }
            // Neither the command nor the stream moved, so the duplicate key was an event id.
            return new EventRejectedException(describe(request) + " failed: an event id is already stored; event "
                    + "ids must be unique", e);
        }
        return new ConcurrencyConflictException(stream, expected, actual, e);
    }

    /**
     * Why a decision without events stored nothing: the command is already decided (reported first), or the
     * stream moved. The actual last sequence number is read after the fact; when it is back at the expected one
     * (the expected event was missing when the decision was checked, and has been appended since), it is
     * reported as unknown.
     */
    private RuntimeException decisionNotStored(Connection connection, AppendRequest request) {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        try {
            Optional<CommandRecord> earlier = findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return new DuplicateCommandException(earlier.get());
            }
            long actual = lastSequence(connection, stream);
            return new ConcurrencyConflictException(stream, expected,
                    actual == expected ? ConcurrencyConflictException.UNKNOWN : actual);
        } catch (SQLException lookup) {
            return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, lookup);
        }
    }

    private void checkSizes(AppendRequest request) {
        for (EventData event : request.events()) {
            long chars = (long) event.payload().length() + event.metadata().length();
            // A char takes at most 3 UTF-8 bytes; count exactly only when the quick bound is over the limit.
            if (chars * 3 > maxEventBytes) {
                long bytes = (long) event.payload().getBytes(StandardCharsets.UTF_8).length
                        + event.metadata().getBytes(StandardCharsets.UTF_8).length;
                if (bytes > maxEventBytes) {
                    throw new PayloadTooLargeException(request.aggregateId(), event.type(), bytes, maxEventBytes);
                }
            }
        }
    }

    @Override
    public long lastSequence(StreamId stream) {
        Objects.requireNonNull(stream, "stream");
        try (Connection connection = dataSource.getConnection()) {
            return lastSequence(connection, stream);
        } catch (SQLException e) {
            throw failure("Reading the last sequence number of " + stream, e);
        }
    }

    private long lastSequence(Connection connection, StreamId stream) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql.lastSequence())) {
            applyTimeout(query);
            query.setString(1, stream.aggregateType());
            query.setString(2, stream.aggregateId());
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                long last = rows.getLong(1);
                return rows.wasNull() ? -1 : last;
            }
        }
    }

    @Override
    public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(commandId, "commandId");
        try (Connection connection = dataSource.getConnection()) {
            return findCommand(connection, stream, commandId);
        } catch (SQLException e) {
            throw failure("Looking up command " + commandId + " of " + stream, e);
        }
    }

    private Optional<CommandRecord> findCommand(Connection connection, StreamId stream, String commandId)
            throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql.findCommand())) {
            applyTimeout(query);
            query.setString(1, stream.aggregateType());
            query.setString(2, stream.aggregateId());
            query.setString(3, commandId);
            try (ResultSet rows = query.executeQuery()) {
                if (!rows.next()) {
                    return Optional.empty();
                }
                long decidedAt = rows.getLong(1);
                int eventCount = rows.getInt(2);
                String kind = rows.getString(3);
                CommandOutcome outcome;
                if (RESULT.equals(kind)) {
                    String type = rows.getString(4);
                    outcome = CommandOutcome.Result.of(type == null ? null : new SerializedValue(type,
                            rows.getString(5)));
                } else if (REFUSAL.equals(kind)) {
                    outcome = new CommandOutcome.Refusal(rows.getString(6), rows.getString(7));
                } else {
                    throw new EventStoreSchemaException("Command " + commandId + " of " + stream + " has outcome '"
                            + kind + "' in table " + tables.commands() + ", where only 'result' and 'refusal' are "
                            + "known; was it written by a newer version of Gyre?", null);
                }
                return Optional.of(new CommandRecord(stream, commandId, decidedAt, eventCount, outcome));
            }
        }
    }

    @Override
    public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
        Objects.requireNonNull(stream, "stream");
        if (fromSequence < 0) {
            throw new IllegalArgumentException("fromSequence must be 0 or more, but was " + fromSequence);
        }
        Iterator<StoredEvent> pages = new Iterator<>() {
            private List<StoredEvent> page = Collections.emptyList();
            private int index;
            private long next = fromSequence;
            private boolean exhausted;

            @Override
            public boolean hasNext() {
                if (index < page.size()) {
                    return true;
                }
                if (exhausted) {
                    return false;
                }
                page = readPage(stream, next);
                index = 0;
                exhausted = page.size() < readBatchSize;
                if (!page.isEmpty()) {
                    next = page.get(page.size() - 1).sequence() + 1;
                }
                return !page.isEmpty();
            }

            @Override
            public StoredEvent next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.get(index++);
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pages,
                Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT), false);
    }

    private List<StoredEvent> readPage(StreamId stream, long fromSequence) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(sql.readStreamPage())) {
            applyTimeout(query);
            query.setString(1, stream.aggregateType());
            query.setString(2, stream.aggregateId());
            query.setLong(3, fromSequence);
            query.setInt(4, readBatchSize);
            List<StoredEvent> page = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    page.add(event(rows));
                }
            }
            if (!page.isEmpty()) {
                heads.advance(stream, page.get(page.size() - 1).sequence());
            }
            return page;
        } catch (SQLException e) {
            throw failure("Reading the stream of " + stream + " from sequence " + fromSequence, e);
        }
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        Objects.requireNonNull(after, "after");
        if (maxCount < 1) {
            throw new IllegalArgumentException("maxCount must be 1 or more, but was " + maxCount);
        }
        try (Connection connection = dataSource.getConnection()) {
            return gate == null ? readAllPostgres(connection, after, maxCount)
                    : readAllH2(connection, gate, after, maxCount);
        } catch (SQLException e) {
            throw failure("Reading the global log after " + after, e);
        }
    }

    private List<TrackedEvent> readAllPostgres(Connection connection, TrackingToken after, int maxCount)
            throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql.readAllPostgres())) {
            applyTimeout(query);
            query.setString(1, Long.toString(after.commitOrder()));
            query.setLong(2, after.position());
            query.setInt(3, maxCount);
            List<TrackedEvent> batch = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    StoredEvent event = event(rows);
                    batch.add(new TrackedEvent(event, new TrackingToken(rows.getLong(11), event.position())));
                }
            }
            return batch;
        }
    }

    private List<TrackedEvent> readAllH2(Connection connection, CommitOrderGate commitGate, TrackingToken after,
                                         int maxCount) throws SQLException {
        long horizon = commitGate.horizon(() -> {
            try (PreparedStatement query = connection.prepareStatement(sql.highestPosition());
                 ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            } catch (SQLException e) {
                throw failure("Reading the highest position of the global log", e);
            }
        });
        try (PreparedStatement query = connection.prepareStatement(sql.readAllH2())) {
            applyTimeout(query);
            query.setLong(1, after.position());
            query.setLong(2, horizon);
            query.setInt(3, maxCount);
            List<TrackedEvent> batch = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    StoredEvent event = event(rows);
                    batch.add(new TrackedEvent(event, TrackingToken.at(event.position())));
                }
            }
            return batch;
        }
    }

    private static StoredEvent event(ResultSet rows) throws SQLException {
        return new StoredEvent(rows.getLong(1), rows.getString(2), rows.getString(3), rows.getLong(4),
                rows.getString(5), rows.getString(6), rows.getString(7), rows.getString(8), rows.getString(9),
                rows.getObject(10, OffsetDateTime.class).toInstant());
    }

    private void applyTimeout(PreparedStatement statement) throws SQLException {
        if (queryTimeoutSeconds > 0) {
            statement.setQueryTimeout(queryTimeoutSeconds);
        }
    }

    private static String describe(AppendRequest request) {
        if (request.decisionOnly()) {
            return "Recording the " + (request.outcome() instanceof CommandOutcome.Refusal ? "refusal" : "result")
                    + " without events of command " + request.commandId() + " for " + request.stream()
                    + " (decided at " + request.expected() + ")";
        }
        return "Appending " + request.events().size() + " event(s) of command " + request.commandId() + " to "
                + request.stream();
    }

    /** Closes the connection pool if the store made it ({@link #h2(Path)}); a given data source stays open. */
    @Override
    public void close() {
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                throw new IllegalStateException("Closing the H2 connection pool failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "JdbcEventStore[" + dialect + ", " + tables.events() + "]";
    }

    /** Configures a {@link JdbcEventStore}; each setter checks its value at once. */
    public static final class Builder {

        private final DataSource dataSource;
        private @Nullable Dialect dialect;
        private TableNames tables = TableNames.defaults();
        private boolean createSchema;
        private int readBatchSize = 1024;
        private long maxEventBytes = 1024 * 1024;
        private @Nullable Duration queryTimeout;
        private int maxAppendsPerTransaction = 64;
        private int appendTransactions = 8;
        private @Nullable AutoCloseable ownedPool;

        private Builder(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        }

        /**
         * @param dialect the database; detected from the connection when not set
         * @return this builder
         */
        public Builder dialect(Dialect dialect) {
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            return this;
        }

        /**
         * @param tables the table names (default {@link TableNames#defaults()})
         * @return this builder
         */
        public Builder tableNames(TableNames tables) {
            this.tables = Objects.requireNonNull(tables, "tables");
            return this;
        }

        /**
         * @param createSchema true to create missing tables from the shipped schema files on start; false
         *                     (the builder's default) to only check that they exist with every column
         * @return this builder
         */
        public Builder createSchema(boolean createSchema) {
            this.createSchema = createSchema;
            return this;
        }

        /**
         * @param readBatchSize events per query when reading a stream, 1 to 100,000 (default 1,024)
         * @return this builder
         */
        public Builder readBatchSize(int readBatchSize) {
            if (readBatchSize < 1 || readBatchSize > 100_000) {
                throw new IllegalArgumentException("readBatchSize must be between 1 and 100000, but was "
                        + readBatchSize);
            }
            this.readBatchSize = readBatchSize;
            return this;
        }

        /**
         * @param maxEventBytes the largest payload plus metadata of one event, in UTF-8 bytes, 1 KiB to 64 MiB
         *                      (default 1 MiB); larger events are refused with a {@link PayloadTooLargeException}
         * @return this builder
         */
        public Builder maxEventBytes(long maxEventBytes) {
            if (maxEventBytes < 1024 || maxEventBytes > 64L * 1024 * 1024) {
                throw new IllegalArgumentException("maxEventBytes must be between 1024 and 67108864, but was "
                        + maxEventBytes);
            }
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        /**
         * A per-statement timeout enforced by the JDBC driver. None by default: PostgreSQL's driver runs a timer
         * per statement for it, which cost about a fifth of single-thread append throughput in the benchmark;
         * prefer the database's own limit on the pool ({@code options=-c statement_timeout=30s} in a
         * PostgreSQL URL, {@code LOCK_TIMEOUT} on H2, which {@link #h2(Path)} sets to 10 s).
         *
         * @param queryTimeout the longest one statement may run, 1 second to 1 hour
         * @return this builder
         */
        public Builder queryTimeout(Duration queryTimeout) {
            Objects.requireNonNull(queryTimeout, "queryTimeout");
            if (queryTimeout.compareTo(Duration.ofSeconds(1)) < 0 || queryTimeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("queryTimeout must be between 1 second and 1 hour, but was "
                        + queryTimeout);
            }
            this.queryTimeout = queryTimeout;
            return this;
        }

        /**
         * Group commit: appends that arrive while earlier ones are being written are written together, in one
         * transaction, up to this many at a time (default 64). A lone append is written at once, in a
         * transaction of its own, so group commit costs a single caller nothing and lets many concurrent
         * callers share the commit, the most expensive part of an append. An append refused in a group (a
         * conflict, a re-sent command) is written again alone, so each caller gets its own outcome and nothing
         * of a refused append is stored. 1 turns group commit off: every append its own transaction.
         *
         * @param maxAppendsPerTransaction 1 to 1,000
         * @return this builder
         */
        public Builder maxAppendsPerTransaction(int maxAppendsPerTransaction) {
            if (maxAppendsPerTransaction < 1 || maxAppendsPerTransaction > 1_000) {
                throw new IllegalArgumentException("maxAppendsPerTransaction must be between 1 and 1000, but was "
                        + maxAppendsPerTransaction);
            }
            this.maxAppendsPerTransaction = maxAppendsPerTransaction;
            return this;
        }

        /**
         * The most transactions writing appends at once (default 8). Appends beyond them wait for the next
         * transaction and share it (see {@link #maxAppendsPerTransaction(int)}). On the benchmark's two cores,
         * 8 kept up with eight callers each writing on its own connection and let 64 callers share
         * transactions, which made PostgreSQL take about 1.4 times as many appends per second as 64 callers
         * each inserting alone; 1, 2 or 4 transactions made eight callers wait on each other.
         *
         * @param appendTransactions 1 to 1,000
         * @return this builder
         */
        public Builder appendTransactions(int appendTransactions) {
            if (appendTransactions < 1 || appendTransactions > 1_000) {
                throw new IllegalArgumentException("appendTransactions must be between 1 and 1000, but was "
                        + appendTransactions);
            }
            this.appendTransactions = appendTransactions;
            return this;
        }

        /**
         * Connects, creates or validates the schema, and returns the store.
         *
         * @return the started store
         * @throws JdbcEventStoreException   when the database cannot be reached
         * @throws EventStoreSchemaException when the schema is missing or incomplete and createSchema is false
         */
        public JdbcEventStore build() {
            String url;
            Dialect resolved;
            try (Connection connection = dataSource.getConnection()) {
                url = connection.getMetaData().getURL();
                resolved = dialect != null ? dialect
                        : Dialect.forProduct(connection.getMetaData().getDatabaseProductName());
            } catch (SQLException e) {
                closeOwnedPool();
                throw new JdbcEventStoreException("Connecting to the event store database failed", e);
            }
            SchemaManager schema = new SchemaManager(dataSource, tables, resolved == Dialect.POSTGRES,
                    resolved.schemaFolder());
            try {
                if (createSchema) {
                    schema.create();
                }
                schema.validate();
            } catch (SQLException e) {
                closeOwnedPool();
                throw SqlErrors.translate("Preparing the event store schema " + tables, e);
            } catch (RuntimeException e) {
                closeOwnedPool();
                throw e;
            }
            CommitOrderGate gate = resolved == Dialect.H2 ? CommitOrderGate.forDatabase(url) : null;
            return new JdbcEventStore(this, resolved, gate);
        }

        private void closeOwnedPool() {
            if (ownedPool != null) {
                try {
                    ownedPool.close();
                } catch (Exception ignored) {
                    // The original failure is what the caller needs to see.
                }
            }
        }
    }
}
