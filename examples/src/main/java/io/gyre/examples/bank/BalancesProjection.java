package io.gyre.examples.bank;

import io.gyre.GyreNonTransientException;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.ResetHandler;
import io.gyre.processing.TrackingProcessor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The balances read model: one row per account in {@value #TABLE}, written by a tracking processor with a
 * {@link Delivery#transactional transactional} delivery, so each event's change and the processor's token commit in
 * one transaction on the read model's database.
 *
 * <pre>{@code
 * JdbcProcessingStore readModel = JdbcProcessingStore.create(dataSource);   // tokens live next to the table
 * BalancesProjection.createTable(dataSource);
 * Gyre node = Gyre.builder()
 *         .eventStore(store)
 *         .aggregate(Account.class)
 *         .processor(BalancesProjection.processor(readModel))
 *         .start();
 * }</pre>
 *
 * <p>The handlers add and subtract with plain {@code UPDATE ... SET balance = balance + ?}, which is not idempotent
 * on purpose: the transactional delivery is what guarantees each event is counted once, also when a node dies
 * between handling a batch and storing its token, so the handlers need no de-duplication of their own. The price
 * is that they must write through the {@link Connection} they are handed (never one of their own) and must not
 * commit it.
 *
 * <p>Each row also keeps the global position and time of the last event applied to it, so a reader can tell how
 * fresh the row is: the read model is eventually consistent, behind the event store by however far the processor
 * lags. Reads go through {@link Balances}.
 *
 * <p>The handlers hold no state, so one instance serves every segment's thread at once.
 */
public final class BalancesProjection {

    /** The processor's name; it keys the stored tokens, so it must stay the same across releases. */
    public static final String PROCESSOR = "balances";

    /** The read model's table. */
    public static final String TABLE = "bank_balances";

    /**
     * Segments of the processor: accounts are spread over them by a hash of their id, each account's events stay in
     * order within its segment, and segments run in parallel. Changing it later needs a reset of the processor.
     */
    public static final int SEGMENTS = 4;

    /**
     * @param transactions the read model's database, which also keeps the processor's tokens, usually
     *                     {@code JdbcProcessingStore.create(dataSource)} on the data source of the table
     * @return the processor, ready to register with {@code Gyre.builder().processor(...)} or to tune further
     */
    public static TrackingProcessor.Builder processor(ProcessingTransactions transactions) {
        return processor(transactions, SEGMENTS);
    }

    /**
     * @param transactions the read model's database, which also keeps the processor's tokens
     * @param segments     how many segments the processor has, 1 to 4,096; every node of a cluster must use the same
     *                     count, and a database that already holds the processor's tokens keeps the count it was
     *                     started with until the processor is reset
     * @return the processor, ready to register with {@code Gyre.builder().processor(...)} or to tune further
     * @throws IllegalArgumentException when the count is out of range
     */
    public static TrackingProcessor.Builder processor(ProcessingTransactions transactions, int segments) {
        return TrackingProcessor.named(PROCESSOR)
                .segments(segments)
                .handlers(new BalancesProjection())
                .delivery(Delivery.transactional(transactions))
                // A failure here is almost always the read model's database being away for a while (a fail-over, a
                // restart): retry for about a minute before stopping the segment, so an outage heals on its own.
                // Stopping rather than dead-lettering keeps a failing account's segment visibly stuck in
                // node.processors() instead of quietly leaving its balance behind; resume("balances") restarts it.
                .onError(ErrorPolicy.builder().attempts(15)
                        .backoff(Duration.ofMillis(100), Duration.ofSeconds(5))
                        .then(ErrorPolicy.Action.STOP_SEGMENT)
                        .build());
    }

    /**
     * Creates {@value #TABLE} unless it exists, on PostgreSQL or H2. Nodes that start together against one database
     * may all call it: on PostgreSQL the creation runs under an advisory lock, since two concurrent
     * {@code CREATE TABLE IF NOT EXISTS} can both try to create it and one then fails.
     *
     * @param dataSource the read model's database
     * @throws IllegalStateException when the table cannot be created, with the driver's exception as its cause
     */
    public static void createTable(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        try (Connection connection = dataSource.getConnection()) {
            boolean postgres = connection.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                if (postgres) {
                    statement.execute("SELECT pg_advisory_xact_lock(" + TABLE.hashCode() + ")");
                }
                statement.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                        + "account_id VARCHAR(255) PRIMARY KEY, "
                        + "owner_name VARCHAR(255) NOT NULL, "
                        + "balance BIGINT NOT NULL, "
                        // The global position of the last event applied to the row, and when it was applied.
                        + "last_event_position BIGINT NOT NULL, "
                        + "updated_at TIMESTAMP WITH TIME ZONE NOT NULL)");
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Creating the read model table " + TABLE + " failed (SQLState "
                    + e.getSQLState() + ")", e);
        }
    }

    /**
     * An account was opened: its row starts at a balance of zero.
     *
     * @param event      the event
     * @param context    where the event stands in the log
     * @param connection the processor's transaction
     * @throws SQLException when the row cannot be written; the transaction then rolls back and the event is retried
     */
    @EventHandler
    void on(AccountOpened event, EventContext context, Connection connection) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + TABLE
                + " (account_id, owner_name, balance, last_event_position, updated_at) VALUES (?, ?, 0, ?, ?)")) {
            insert.setString(1, event.accountId());
            insert.setString(2, event.owner());
            insert.setLong(3, position(context));
            insert.setObject(4, OffsetDateTime.ofInstant(context.timestamp(), ZoneOffset.UTC));
            insert.executeUpdate();
        }
    }

    /**
     * Money was deposited: the balance goes up.
     *
     * @param event      the event
     * @param context    where the event stands in the log
     * @param connection the processor's transaction
     * @throws SQLException when the row cannot be written
     */
    @EventHandler
    void on(Deposited event, EventContext context, Connection connection) throws SQLException {
        add(event.accountId(), event.amount(), "Deposited", context, connection);
    }

    /**
     * Money was withdrawn: the balance goes down.
     *
     * @param event      the event
     * @param context    where the event stands in the log
     * @param connection the processor's transaction
     * @throws SQLException when the row cannot be written
     */
    @EventHandler
    void on(Withdrawn event, EventContext context, Connection connection) throws SQLException {
        add(event.accountId(), -event.amount(), "Withdrawn", context, connection);
    }

    /**
     * Empties the table before the processor replays the log. It runs in the same transaction that moves the
     * tokens back, so the table is never emptied with the tokens left where they were, or the other way round.
     * The handlers rebuild every row from the account's {@link AccountOpened}, so this read model is reset to the
     * start of the log only, never to a position in the middle of it.
     *
     * @param connection the reset's transaction
     * @throws SQLException when the rows cannot be deleted; the reset then fails and nothing moves
     */
    @ResetHandler
    void clear(Connection connection) throws SQLException {
        try (Statement delete = connection.createStatement()) {
            delete.executeUpdate("DELETE FROM " + TABLE);
        }
    }

    private static void add(String accountId, long amount, String eventType, EventContext context,
                            Connection connection) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement("UPDATE " + TABLE
                + " SET balance = balance + ?, last_event_position = ?, updated_at = ? WHERE account_id = ?")) {
            update.setLong(1, amount);
            update.setLong(2, position(context));
            update.setObject(3, OffsetDateTime.ofInstant(context.timestamp(), ZoneOffset.UTC));
            update.setString(4, accountId);
            if (update.executeUpdate() == 0) {
                // Events of one account arrive in order, so its row exists unless the opening was never handled:
                // the processor was reset to a position after it. Retrying cannot help: a non-transient failure
                // skips the retries and stops the segment at once, and its status carries this message.
                throw new GyreNonTransientException(TABLE + " has no row for account '" + accountId + "', whose "
                        + eventType + " event #" + context.sequence() + " is at position " + position(context)
                        + ": the read model missed the account's opening. Was processor '" + PROCESSOR
                        + "' reset to a position after it? Reset it to the start instead");
            }
        }
    }

    private static long position(EventContext context) {
        // A tracking processor always places its events; only a subscribing one leaves the token out.
        return Objects.requireNonNull(context.token(), "a tracking processor's event has a token").position();
    }
}
