package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import io.gyre.command.Deadline;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.PayloadTooLargeException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.internal.Appender;
import io.gyre.eventstore.jdbc.internal.CommitOrderGate;
import io.gyre.eventstore.jdbc.internal.ConflictDiagnosis;
import io.gyre.eventstore.jdbc.internal.Connections;
import io.gyre.eventstore.jdbc.internal.DecisionRows;
import io.gyre.eventstore.jdbc.internal.EmbeddedH2;
import io.gyre.eventstore.jdbc.internal.Failures;
import io.gyre.eventstore.jdbc.internal.GlobalLog;
import io.gyre.eventstore.jdbc.internal.GroupAppender;
import io.gyre.eventstore.jdbc.internal.GroupCommit;
import io.gyre.eventstore.jdbc.internal.H2GlobalLog;
import io.gyre.eventstore.jdbc.internal.JdbcSnapshots;
import io.gyre.eventstore.jdbc.internal.PostgresAppendAnnouncer;
import io.gyre.eventstore.jdbc.internal.PostgresAppendListener;
import io.gyre.eventstore.jdbc.internal.PostgresGlobalLog;
import io.gyre.eventstore.jdbc.internal.PostgresLogWatch;
import io.gyre.eventstore.jdbc.internal.SchemaManager;
import io.gyre.eventstore.jdbc.internal.SqlErrors;
import io.gyre.eventstore.jdbc.internal.StartupWait;
import io.gyre.eventstore.jdbc.internal.Statements;
import io.gyre.eventstore.jdbc.internal.StreamReader;
import io.gyre.eventstore.jdbc.internal.WithheldEventsWake;
import io.gyre.processing.AppendNotifier;
import io.gyre.processing.GlobalLogMonitor;
import io.gyre.processing.GlobalLogStall;
import io.gyre.processing.SegmentOwnership;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
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
 * its row in the commands table, keyed by (aggregate type, aggregate id, command id), with its outcome and its
 * command's fingerprint, and its events. On PostgreSQL both go in one statement (one round trip); on H2, which runs
 * inside the process, in two statements of one transaction.
 *
 * <p>A decision is stored only on the stream head it was decided on, and that is checked by the append itself: the
 * statement that inserts the command row requires the expected last event to exist and the next one not to, and
 * writes nothing otherwise; the caller gets a {@link ConcurrencyConflictException} naming the actual last sequence
 * number. So a stream can never get a gap, whatever the store remembers: after committed events were lost (a
 * fail-over to a replica that lagged, a restore, a crash with {@code synchronous_commit} off) the next append that
 * expects one of them conflicts, and the aggregate is decided again on what is really stored. The store keeps no
 * stream heads in memory. The unique key on (aggregate type, aggregate id, sequence number) still refuses a second
 * writer that passed the check at the same moment.
 *
 * <p>The first decision on a command id is final, whether it stored events or none (a refusal, or a result that
 * changed nothing): a later decision under the same id stores nothing and gets a {@link DuplicateCommandException}
 * carrying the stored decision, reported before any conflict. If both carry a fingerprint of their command
 * ({@link AppendRequest#fingerprint()}) and they differ, the id was reused for a different command, which gets a
 * non-transient {@link io.gyre.eventstore.CommandIdReusedException} instead of the first command's outcome.
 *
 * <p>Appends are written by the store's own writer threads, at most {@link Builder#appendTransactions(int)} of them,
 * and concurrent appends share transactions (group commit). {@link #appendAsync} queues a decision and returns at
 * once, so one caller (a command worker) can have many appends in flight; {@link #append} does the same and waits.
 * An append that finds a writer free is written at once, with whatever was already waiting; one that arrives while
 * every writer is busy waits for the next transaction, which writes every append then waiting, up to
 * {@link Builder#maxAppendsPerTransaction(int)} and one per stream, decisions without events included.
 * An append of a group that may not be stored (a conflict, a lost expected event, a decided command id) writes
 * nothing and fails alone, and the others commit together; one the database refuses with an error (an event id
 * used before, data it cannot hold) makes the group be written once more, each append behind a savepoint, so
 * that it too fails alone. Only a lost connection or a failed commit fails them all (a failed commit leaves the
 * outcome unknown: a re-sent command is then stored, or reported as a {@link DuplicateCommandException}).
 *
 * <p>A duplicate-key error is recognised on both databases wherever the driver puts it (PostgreSQL's SQLState
 * 23505 may come inside a {@code BatchUpdateException}), and told apart by looking up what the keys guard: a
 * stored decision of the command, a stream that moved past the expected sequence ({@link
 * ConcurrencyConflictException}), or else an event id used before ({@link EventRejectedException}). Data the
 * database refuses for its content or its size (SQLState classes 22, 23 and 54), and what the store knows it
 * would refuse (an event over {@link Builder#maxEventBytes(long)}, an event id over 255 characters, refused before
 * any round trip), is a non-transient {@link EventRejectedException}: sending it again cannot help. Other failures
 * become a transient {@link JdbcEventStoreException} with the driver's SQLState, or an
 * {@link EventStoreSchemaException} when the schema is at fault.
 *
 * <h2>Starting</h2>
 * A store checks its schema when it starts and refuses to start on one it cannot trust, naming what is wrong (see
 * {@link Builder#createSchema(boolean)}). A database that does not answer yet is waited for, with back-off, up to
 * {@link Builder#startupTimeout(Duration)}.
 *
 * <h2>Following the global log without skipping late commits</h2>
 * Global positions are handed out when rows are inserted, not when they commit, so a reader could see position 8
 * before position 7 commits, or wait for ever for a 7 that rolled back. {@link #readAll} does neither: on
 * PostgreSQL it orders the log by inserting transaction and reads only transactions older than every one still
 * running (a long transaction anywhere on the server delays readers, never appenders); on H2 appends and readers
 * share a gate in the JVM, which is why one H2 database must not be shared by several processes: use PostgreSQL
 * for a cluster.
 *
 * <p>The log reports when it stands still ({@link #globalLogStatus()}): a transaction left open on the PostgreSQL
 * server holds every reader back, and the store names it after {@link Builder#stallThreshold(Duration)}. As a
 * {@link GlobalLogMonitor} it hands a node's tracking processors what it last found, which their status shows
 * ({@link io.gyre.processing.ProcessorStatus#logStall()}). And it
 * refuses to read a database restored from another server, whose stored transaction ids are above the server's
 * (readers would otherwise silently get nothing), with a {@link GlobalLogRestoredException} naming the repair,
 * {@link GlobalLogRepair#startNewEpoch}: the log is ordered by a log epoch first, which the repair raises.
 *
 * <h2>Waking processors</h2>
 * The store is an {@link AppendNotifier}, which a Gyre node uses unless told otherwise: on PostgreSQL a node that
 * appended sends a {@code NOTIFY} after the commit, one at a time (appends that commit meanwhile share the next), and
 * a subscriber is woken by one listening connection taken from the data source for as long as somebody subscribes. It
 * reconnects with back-off when that connection drops and never fails the node; processors still poll, so a lost
 * notification costs latency, never an event. {@link Builder#notifyAppends(boolean)} turns it off. On H2, a
 * database of one process, the node wakes its processors itself and the store adds nothing.
 *
 * <h2>Reading a stream</h2>
 * Streams are read in pages of {@link Builder#readBatchSize(int)} events, each page its own query, so a long
 * stream loads in constant memory and an abandoned stream holds no connection.
 *
 * <p>Thread-safe.
 */
public final class JdbcEventStore implements EventStore, AppendNotifier, GlobalLogMonitor {

    /** How long {@link #close()} lets the writers finish the queued appends. */
    private static final int CLOSE_SECONDS = 10;

    private final Dialect dialect;
    private final TableNames tables;
    private final Connections connections;
    private final StreamReader reader;
    private final GlobalLog log;
    private final Appender appender;
    private final GroupCommit<AppendRequest> groupCommit;
    private final @Nullable AutoCloseable ownedPool;
    private final JdbcSnapshotStore snapshots;
    private final @Nullable PostgresLogWatch watch;
    private final @Nullable PostgresAppendListener listener;
    private final @Nullable PostgresAppendAnnouncer announcer;
    private final @Nullable WithheldEventsWake withheldWake;

    private JdbcEventStore(Builder builder, Dialect dialect, @Nullable CommitOrderGate gate) {
        this.dialect = dialect;
        this.tables = builder.tables;
        this.ownedPool = builder.ownedPool;
        boolean postgres = dialect == Dialect.POSTGRES;
        String channel = postgres && builder.notifyAppends ? PostgresAppendListener.channelFor(builder.tables) : null;
        Statements sql = new Statements(postgres, builder.tables);
        this.connections = new Connections(builder.dataSource, sql,
                builder.queryTimeout == null ? 0 : (int) builder.queryTimeout.toSeconds());
        Failures failures = new Failures();
        this.reader = new StreamReader(connections, failures, builder.readBatchSize);
        this.snapshots = new JdbcSnapshotStore(new JdbcSnapshots(connections, failures, builder.tables.snapshots()),
                reader, builder.tables.snapshots());
        this.watch = postgres ? new PostgresLogWatch(connections, failures, builder.stallThreshold, Clock.systemUTC())
                : null;
        this.listener = channel == null ? null : new PostgresAppendListener(builder.dataSource, channel);
        this.announcer = channel == null ? null : new PostgresAppendAnnouncer(builder.dataSource, channel);
        this.withheldWake = listener == null ? null : new WithheldEventsWake(listener);
        this.log = gate == null ? new PostgresGlobalLog(connections, failures, Objects.requireNonNull(watch),
                withheldWake) : new H2GlobalLog(connections, failures, gate);
        ConflictDiagnosis diagnosis = new ConflictDiagnosis(reader, failures);
        DecisionRows rows = new DecisionRows(sql);
        this.appender = new Appender(connections, rows, log, diagnosis, failures, builder.maxEventBytes);
        this.groupCommit = new GroupCommit<>(new GroupAppender(connections, rows, appender, log, diagnosis, failures),
                builder.maxAppendsPerTransaction, builder.appendTransactionsFor(dialect),
                (request, maybeWritten) -> new EventStoreClosedException(Appender.describe(request) + (maybeWritten
                        ? ": the event store closed while it was being written, so whether it was stored is unknown"
                        : ": not stored, the event store is closed"), null, maybeWritten),
                "gyre-eventstore");
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
     * <p>H2 and the HikariCP pool over it come with {@code gyre-eventstore-jdbc}; a build that excluded either
     * ({@code com.h2database:h2}, {@code com.zaxxer:HikariCP}) gets an error that names it.
     *
     * @param file the database file without extension ({@code data/events} makes {@code data/events.mv.db});
     *             parent folders are created
     * @return the started store
     * @throws JdbcEventStoreException    when the file cannot be opened (for example, another process holds it)
     * @throws GyreNonTransientException when H2 is not on the class path
     */
    public static JdbcEventStore h2(Path file) {
        Objects.requireNonNull(file, "file");
        requireH2(file);
        EmbeddedH2 database = EmbeddedH2.open(file);
        Builder builder = builder(database.dataSource()).dialect(Dialect.H2).createSchema(true);
        builder.ownedPool = database;
        return builder.build();
    }

    private static void requireH2(Path file) {
        requireClass(file, "org.h2.Driver", "H2 2.x", "com.h2database:h2");
        requireClass(file, "com.zaxxer.hikari.HikariDataSource", "HikariCP", "com.zaxxer:HikariCP");
    }

    private static void requireClass(Path file, String className, String library, String artifact) {
        try {
            Class.forName(className, false, JdbcEventStore.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new GyreNonTransientException("The embedded event store (JdbcEventStore.h2(" + file + ")) needs "
                    + library + ", which is not on the class path: gyre-eventstore-jdbc brings " + artifact
                    + ", so it was excluded or left out of the runtime class path. Add " + artifact + " to your "
                    + "dependencies, or use JdbcEventStore.postgres(dataSource)", e);
        }
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

    /**
     * @return the snapshot store on this store's snapshots table and connections, for
     *         {@code Gyre.builder().snapshots(...)}; always the same instance
     */
    public JdbcSnapshotStore snapshots() {
        return snapshots;
    }

    /**
     * Stores a decision and waits for it, uninterruptibly (a queued append may be written at any moment; the caller
     * keeps its interrupt status for later). It shares a transaction with the appends queued meanwhile, as
     * {@link #appendAsync} does, but a caller that finds one of the {@link Builder#appendTransactions(int)} writers'
     * places free writes the transaction on its own thread instead of waking a writer thread and sleeping until it is
     * done; it returns once its own append is written. A caller interrupted before it starts waits for a writer
     * thread instead. While the database keeps the append waiting (a lock on the table, a full pool), so does the
     * caller, as it would in a plain JDBC call, up to {@link Builder#queryTimeout(Duration)} when one is set.
     *
     * <p>On H2 the caller never writes: it waits for a writer thread, as {@link #appendAsync} does. An interrupt that
     * reaches a thread while it works inside an embedded H2 database can break the database for every other thread
     * (H2's MVStore is not interrupt-safe: H2 issues 227 and 1300), and a caller's thread can be interrupted at any
     * moment (a web request cancelled, {@code Future.cancel(true)}); the store's own writer threads never are.
     */
    @Override
    public AppendResult append(AppendRequest request) {
        Objects.requireNonNull(request, "request");
        appender.checkSizes(request);
        ExpectedSequence expected = request.expected();
        if (expected instanceof ExpectedSequence.Any) {
            return appendAfterWhateverIsStored(request);
        }
        long lastSequence = expected.lastSequence();
        if (dialect == Dialect.H2) {
            awaitWriterThread(groupCommit.submitAsync(request));
        } else {
            groupCommit.submit(request);
        }
        if (announcer != null && !request.decisionOnly()) {
            announcer.appended();
        }
        return new AppendResult(lastSequence + 1, lastSequence + request.events().size());
    }

    /**
     * Queues the decision for the store's writer threads and returns at once; they write it with the other
     * decisions queued meanwhile, in one transaction (see the class comment). The future completes on a writer
     * thread. A request with {@link ExpectedSequence#any()} reads the stream's head first, on the calling thread.
     */
    @Override
    public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
        return queue(request, groupCommit::submitAsync);
    }

    /**
     * Checks the request, then hands it to the group commit, which writes it now or later.
     *
     * @param request the decision
     * @param submit  how the group commit takes it
     * @return its outcome; a bad request or a failure before the hand-off as a failed future, never thrown
     */
    private CompletableFuture<AppendResult> queue(AppendRequest request,
                                                  Function<AppendRequest, CompletableFuture<Void>> submit) {
        try {
            Objects.requireNonNull(request, "request");
            appender.checkSizes(request);
            ExpectedSequence expected = request.expected();
            if (expected instanceof ExpectedSequence.Any) {
                return CompletableFuture.completedFuture(appendAfterWhateverIsStored(request));
            }
            long lastSequence = expected.lastSequence();
            AppendResult result = new AppendResult(lastSequence + 1, lastSequence + request.events().size());
            boolean announce = announcer != null && !request.decisionOnly();
            return submit.apply(request).thenApply(written -> {
                if (announce) {
                    announcer.appended();
                }
                return result;
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Waits uninterruptibly (the append may be written at any moment) and throws the append's own failure. */
    private static void awaitWriterThread(CompletableFuture<Void> written) {
        try {
            written.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw e;
        }
    }

    /**
     * Stores a decision for a caller that waits for it with {@code timeLeft} before its deadline. A caller that finds
     * a writer's place free writes the transaction itself, as {@link #append} does, and on PostgreSQL the
     * driver cancels that transaction's statements once {@code timeLeft} has passed (a lock held by another
     * transaction, say; the commit itself is not bounded): the transaction is rolled back, and the future fails with a {@link JdbcEventStoreException}
     * (SQLState 57014) saying that nothing was stored. Appends of others written in its
     * transaction share its bound, but when it cuts them short they go back to the head of the queue for a writer
     * thread, which writes them without a bound: one caller's deadline never fails another's append. A caller that finds every writer
     * busy does not wait: its append is queued as {@link #appendAsync} does, and the future completes on a writer
     * thread. On H2 the caller never writes (see {@link #append}): the append is queued as {@link #appendAsync}
     * does, and H2's lock timeout ends a blocked write.
     *
     * <p>On PostgreSQL a caller that writes itself also waits for a connection from the pool only until
     * {@code timeLeft} has passed, however long the pool's own wait ({@code connectionTimeout}): the future then fails
     * with a {@link JdbcEventStoreException} (SQLState 08001) saying that the append was not written, and the appends
     * of others in its transaction go back to the queue as above. The wait is ended by interrupting the caller's
     * thread inside {@code getConnection} (the interrupt is cleared again), which HikariCP and the other common pools
     * honour; a data source that ignores interrupts holds the caller until it answers.
     */
    @Override
    public CompletableFuture<AppendResult> appendWithin(AppendRequest request, Duration timeLeft) {
        if (timeLeft == null || timeLeft.isNegative() || timeLeft.isZero()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("timeLeft must be more than zero, but "
                    + "was " + timeLeft + "; a caller whose deadline has passed has nothing to wait for"));
        }
        if (dialect == Dialect.H2) {
            return queue(request, groupCommit::submitAsync);
        }
        Deadline deadline = Deadline.afterNanos(
                (timeLeft.compareTo(Deadline.MAX_TIMEOUT) > 0 ? Deadline.MAX_TIMEOUT : timeLeft).toNanos());
        return queue(request, accepted -> groupCommit.submitWithin(accepted, deadline));
    }

    private AppendResult appendAfterWhateverIsStored(AppendRequest request) {
        // "any" promises no check, so a lost race is retried here rather than reported.
        for (int attempt = 1; ; attempt++) {
            long last = lastSequence(request.stream());
            try {
                return append(request.withExpected(ExpectedSequence.exactly(last)));
            } catch (ConcurrencyConflictException e) {
                if (attempt >= 20) {
                    throw e;
                }
            }
        }
    }

    @Override
    public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
        return reader.read(stream, fromSequence);
    }

    @Override
    public long lastSequence(StreamId stream) {
        return reader.lastSequence(stream);
    }

    @Override
    public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
        return reader.findCommand(stream, commandId);
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        Objects.requireNonNull(after, "after");
        if (maxCount < 1) {
            throw new IllegalArgumentException("maxCount must be 1 or more, but was " + maxCount);
        }
        return log.readAll(after, maxCount);
    }

    /**
     * Whether readers of the global log get what is committed, checked now (one query on PostgreSQL): on PostgreSQL
     * {@link GlobalLogStatus.State#STALLED} with the sessions to end when a transaction left open on the server has
     * held readers back for longer than {@link Builder#stallThreshold(Duration)}, or
     * {@link GlobalLogStatus.State#RESTORED} when the database was restored from another server. Always
     * {@link GlobalLogStatus.State#MOVING} on H2.
     *
     * @return the status
     * @throws JdbcEventStoreException when the database cannot be reached
     * @throws EventStoreClosedException on PostgreSQL, after {@link #close()}
     */
    public GlobalLogStatus globalLogStatus() {
        if (watch == null) {
            return new GlobalLogStatus(GlobalLogStatus.State.MOVING, Instant.now(), null, null, Duration.ZERO,
                    List.of(), "moving: appends and readers share a commit gate in this process");
        }
        return watch.statusNow();
    }

    /**
     * The stall the store last found while readers got less than they asked for (checked at most once a second, see
     * {@link #globalLogStatus()}), without asking the database again; a node's tracking processors show it in their
     * status. Always empty on H2.
     *
     * @return the stall, or empty when the log moved when last checked, or has not been checked yet
     */
    @Override
    public Optional<GlobalLogStall> lastStall() {
        GlobalLogStatus status = watch == null ? null : watch.lastStatus();
        if (status == null || status.state() != GlobalLogStatus.State.STALLED) {
            return Optional.empty();
        }
        List<GlobalLogStall.BlockingSession> sessions = status.blockingSessions().stream()
                .map(session -> new GlobalLogStall.BlockingSession(session.pid(), session.database(), session.state(),
                        session.transactionStart(), session.query()))
                .toList();
        return Optional.of(new GlobalLogStall(status.checkedAt().minus(status.heldFor()), status.heldFor(),
                status.checkedAt(), sessions, status.message()));
    }

    /**
     * Wakes the listener when any node appends events to this store, on PostgreSQL through {@code LISTEN/NOTIFY}
     * (see the class comment); the first subscription takes a connection from the data source, which the last one
     * to close gives back. On H2, or with {@link Builder#notifyAppends(boolean)} off, nothing calls the listener:
     * pollers poll.
     *
     * @param listener called on the listening thread when events may have been appended; it must return at once
     * @return closing it stops the calls
     */
    @Override
    public SegmentOwnership.Registration subscribe(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        if (this.listener == null) {
            return () -> { };
        }
        return this.listener.subscribe(listener);
    }

    /**
     * @return appends queued and waiting for a writer thread, not those being written: a gauge for monitoring (a
     *         number that keeps growing means the database cannot keep up with the appends)
     */
    public int queuedAppends() {
        return groupCommit.queued();
    }

    /**
     * Lets the writers write the appends already queued (up to {@value #CLOSE_SECONDS} seconds, after which those
     * left fail), refusing new ones; sends the append notification still due (so that other nodes hear the last
     * appends before the data source closes); stops the append listener and announcer, waiting (a few seconds at
     * most) until they have given their connections back; and closes the connection pool if the store made it
     * ({@link #h2(Path)}); a given data source stays open, and may be closed as soon as this returns. Appends refused
     * or ended by the close, and every read or append after it, fail at once with an {@link EventStoreClosedException}
     * that says whether the append may have been stored ({@link EventStoreClosedException#mayHaveBeenStored()}): a
     * node answers the commands they belong to at once instead of retrying them until their deadlines. A read that
     * was running while the pool closed may fail with a transient {@link JdbcEventStoreException} instead; tried
     * again, it gets the closed failure.
     */
    @Override
    public void close() {
        groupCommit.close(Duration.ofSeconds(CLOSE_SECONDS));
        // After the writers' drain, which needs connections: from here every read and append is refused at once with
        // an EventStoreClosedException, which a node does not retry, instead of failing on a closed pool (or, on a
        // given data source, reading on) with a transient error that its commands would retry until their deadlines.
        connections.close();
        if (withheldWake != null) {
            withheldWake.close();
        }
        if (listener != null) {
            listener.close();
        }
        if (announcer != null) {
            announcer.close();
        }
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
        private @Nullable Integer appendTransactions;
        private Duration startupTimeout = Duration.ofSeconds(60);
        private boolean notifyAppends = true;
        private Duration stallThreshold = Duration.ofSeconds(10);
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
         * Either way, start checks the schema: every table, column type, default, NULL-ability, unique key and
         * index the store relies on, and the schema versions recorded (a database migrated by a newer Gyre, or
         * from a schema file that changed since, is refused); what is wrong is named in an
         * {@link EventStoreSchemaException}.
         *
         * @param createSchema true to apply the shipped schema files not applied yet, recording each with its
         *                     checksum; false (the builder's default) to only check the schema, for a database
         *                     whose schema is managed by someone else
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
         * conflict, a re-sent command, bad data) fails alone inside the shared transaction, so each caller gets
         * its own outcome and nothing of a refused append is stored. 1 turns group commit off: every append its
         * own transaction.
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

        /** The number set, or the dialect's default (see {@link #appendTransactions(int)}). */
        private int appendTransactionsFor(Dialect resolved) {
            if (appendTransactions != null) {
                return appendTransactions;
            }
            return resolved == Dialect.H2 ? 2 : 8;
        }

        /**
         * The most transactions writing appends at once, each on a writer thread of the store's own (default 8 on
         * PostgreSQL, 2 on H2; threads start when there is something to write and stop after a minute idle).
         * Appends beyond them wait for the next transaction and share it (see
         * {@link #maxAppendsPerTransaction(int)}). On the benchmark's two cores, 8 kept up with eight PostgreSQL
         * callers each writing on its own connection and let 64 callers share transactions, which made PostgreSQL
         * take about 1.4 times as many appends per second as 64 callers each inserting alone; 1, 2 or 4 transactions
         * made eight callers wait on each other. H2 runs each statement on the writer's own thread and commits one
         * transaction at a time, so more than two transactions in flight only commit alone, each a write to the
         * file: with 2 instead of 8, eight closed-loop clients' commands went from 0.41-0.58 to 0.73-1.01 times the
         * rate of raw INSERTs on the same file, and 64 clients' from 0.70-0.80 to 0.84-0.95 (1 did as well as 2,
         * but leaves no writer free while one waits for a lock).
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
         * How long start waits for a database that does not answer yet (default 60 s): a node started together
         * with its database, or while it restarts, tries again with back-off, logging what it waits for, instead
         * of failing at the pool's first connection timeout. Only a lost or refused connection is waited out;
         * a wrong password, a missing table or a bad schema fails the start at once.
         *
         * @param startupTimeout zero (one attempt) to 1 hour
         * @return this builder
         */
        public Builder startupTimeout(Duration startupTimeout) {
            Objects.requireNonNull(startupTimeout, "startupTimeout");
            if (startupTimeout.isNegative() || startupTimeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("startupTimeout must be between 0 and 1 hour, but was "
                        + startupTimeout);
            }
            this.startupTimeout = startupTimeout;
            return this;
        }

        /**
         * PostgreSQL: whether appends send a {@code NOTIFY} after they commit, and subscribers ({@link
         * JdbcEventStore#subscribe}) listen for them, which wakes the processors of every node at once instead of at
         * their next poll (default true). Sent after the commit, one at a time per node
         * and shared by the appends that commit meanwhile, it does not slow appends down (a {@code NOTIFY} inside
         * each append's transaction would: PostgreSQL serialises notifying commits); see the README's benchmark.
         * Turn it off when processors may wait for their poll interval. No effect on H2.
         *
         * @param notifyAppends true to notify
         * @return this builder
         */
        public Builder notifyAppends(boolean notifyAppends) {
            this.notifyAppends = notifyAppends;
            return this;
        }

        /**
         * PostgreSQL: how long the global log may stand still while committed events wait behind a transaction still
         * open on the server before {@link JdbcEventStore#globalLogStatus()} reports it stalled and the store logs
         * the sessions holding it at WARN (default 10 s).
         *
         * @param stallThreshold 1 second to 1 hour
         * @return this builder
         */
        public Builder stallThreshold(Duration stallThreshold) {
            Objects.requireNonNull(stallThreshold, "stallThreshold");
            if (stallThreshold.compareTo(Duration.ofSeconds(1)) < 0
                    || stallThreshold.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("stallThreshold must be between 1 second and 1 hour, but was "
                        + stallThreshold);
            }
            this.stallThreshold = stallThreshold;
            return this;
        }

        /**
         * Connects (waiting up to {@link #startupTimeout(Duration)} for a database that is still coming up),
         * creates or validates the schema, and returns the store.
         *
         * @return the started store
         * @throws JdbcEventStoreException   when the database cannot be reached within the start timeout
         * @throws EventStoreSchemaException when the schema is not what the store relies on (see
         *                                   {@link #createSchema(boolean)}), or was migrated by a newer Gyre
         * @throws GlobalLogRestoredException on PostgreSQL, when the events table holds transaction ids from another
         *                                    server (a restore); nothing was appended
         */
        public JdbcEventStore build() {
            StartupWait wait = new StartupWait(startupTimeout, "the event store database (" + dataSource + ")");
            Started started;
            try {
                started = wait.run(this::connectAndPrepareSchema);
            } catch (SQLException e) {
                closeOwnedPool();
                throw SqlErrors.translate("Starting the event store on tables " + tables, e);
            } catch (RuntimeException e) {
                closeOwnedPool();
                throw e;
            }
            JdbcEventStore store = new JdbcEventStore(this, started.dialect(), started.gate());
            if (store.watch != null) {
                try {
                    store.watch.checkAtStart();
                } catch (RuntimeException e) {
                    store.close();
                    throw e;
                }
            }
            return store;
        }

        /** What a successful start found: the dialect, and on H2 the commit gate of the database. */
        private record Started(Dialect dialect, @Nullable CommitOrderGate gate) {
        }

        private Started connectAndPrepareSchema() throws SQLException {
            String url;
            Dialect resolved;
            try (Connection connection = dataSource.getConnection()) {
                url = connection.getMetaData().getURL();
                String product = connection.getMetaData().getDatabaseProductName();
                resolved = dialect != null ? dialect : Dialect.forProduct(product);
                refuseOtherDatabase(resolved, product, url);
            }
            SchemaManager schema = new SchemaManager(dataSource, tables, resolved == Dialect.POSTGRES,
                    resolved.schemaFolder());
            if (createSchema) {
                schema.create();
            }
            schema.validate();
            return new Started(resolved, resolved == Dialect.H2 ? CommitOrderGate.forDatabase(url) : null);
        }

        /**
         * A dialect given (by {@link JdbcEventStore#postgres} or {@link #dialect}) for another database than the data
         * source's failed later on the first statement of the other dialect ("Function PG_ADVISORY_XACT_LOCK not
         * found"), which did not say what was wrong. A product neither dialect knows is let through.
         */
        private static void refuseOtherDatabase(Dialect resolved, String product, String url) {
            String name = product.toLowerCase(java.util.Locale.ROOT);
            Dialect actual = name.contains("postgres") ? Dialect.POSTGRES : name.equals("h2") ? Dialect.H2 : null;
            if (actual != null && actual != resolved) {
                throw new IllegalArgumentException("The event store was set up for " + resolved + " (JdbcEventStore."
                        + (resolved == Dialect.POSTGRES ? "postgres(...)" : "h2(...)") + " or dialect(...)), but the "
                        + "data source is " + product + " (" + url + "); use JdbcEventStore.builder(dataSource), "
                        + "which detects the database, or the factory of that database");
            }
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
