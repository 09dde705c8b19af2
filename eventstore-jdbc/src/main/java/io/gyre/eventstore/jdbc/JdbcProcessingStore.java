package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.internal.JdbcDeadLetters;
import io.gyre.eventstore.jdbc.internal.JdbcProcessingTransaction;
import io.gyre.eventstore.jdbc.internal.JdbcTokens;
import io.gyre.eventstore.jdbc.internal.ProcessingSchema;
import io.gyre.eventstore.jdbc.internal.SqlErrors;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TokenStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Event processors' state in a JDBC database (PostgreSQL 14+ or H2 2.x): their tokens, their dead letters, and the
 * transactions of {@link io.gyre.processing.Delivery#transactional transactional} processors.
 *
 * <pre>{@code
 * // Tokens and dead letters next to the events: at-least-once processors.
 * Gyre.builder().eventStore(JdbcEventStore.postgres(events))
 *         .processing(ProcessingSettings.builder().tokenStore(JdbcProcessingStore.create(events)).build())
 *         .processor(TrackingProcessor.named("notifications").handlers(new Mailer()))
 *
 * // A read model in its own database, written exactly once: its tokens live there too.
 * JdbcProcessingStore readModel = JdbcProcessingStore.create(readModelDataSource);
 *         .processor(TrackingProcessor.named("balances").segments(8).handlers(new BalancesProjection())
 *                 .delivery(Delivery.transactional(readModel)))
 * }</pre>
 * where {@code BalancesProjection} writes through the connection it is handed:
 * <pre>{@code
 * @EventHandler
 * void on(Deposited event, Connection connection) throws SQLException {
 *     try (PreparedStatement update = connection.prepareStatement(
 *             "UPDATE balances SET balance = balance + ? WHERE account = ?")) { ... }
 * }
 * }</pre>
 *
 * <h2>Fencing</h2>
 * Each segment's row in the tokens table holds its owner and an epoch. A claim stores a higher epoch; a token update
 * is an {@code UPDATE ... WHERE owner = ? AND epoch = ?}, so an owner whose claim was superseded updates no row and
 * is refused with a {@link io.gyre.processing.StaleSegmentOwnerException}. In a transactional processor that update
 * is in the handlers' transaction, which then rolls back: a stale owner's read model writes never commit. The
 * {@code claimed_until} column of the tokens table is left unused: ownership comes from the cluster's view, with no
 * lease to wait out.
 *
 * <h2>Exactly-once effect, and its limits</h2>
 * Handlers get the transaction's connection; it refuses {@code commit}, {@code rollback}, {@code setAutoCommit} and
 * {@code close}, since ending the transaction would split the writes from the token. The effect is exactly once
 * for writes through that connection only. When this store is also the processor's dead-letter store (the default
 * for a transactional processor without a dead-letter store of its own), a dead letter is added in the transaction
 * that moves the token past its event, fenced like every token update, and a retried letter is removed in the
 * transaction of its handler's writes, which is fenced too ({@link ProcessingTransaction#fence}): a superseded owner
 * leaves no letter and applies none, and a retried event is applied once, whatever fails when. An at-least-once
 * processor on this store gets the same fencing of its letters, but its handlers' effects are its own: a retried
 * letter's handler runs again if its letter could not be removed.
 *
 * <h2>Schema</h2>
 * The processing schema ({@code P1__processor_epochs_and_dead_letters.sql}, a line of versions of its own beside the
 * event store's {@code V1__…}) adds the epoch column to the tokens table and creates the dead-letter table;
 * {@link Builder#createSchema(boolean)} applies it (the default of {@link #create}), recording it with its checksum
 * in the same schema history as the event store. On a read model's own database it creates the tokens table too.
 * Thread-safe.
 */
public final class JdbcProcessingStore implements TokenStore, DeadLetterStore, ProcessingTransactions {

    private final DataSource dataSource;
    private final Dialect dialect;
    private final TableNames tables;
    private final String deadLetterTable;
    private final JdbcTokens tokens;
    private final JdbcDeadLetters deadLetters;

    private JdbcProcessingStore(Builder builder, Dialect dialect, String deadLetterTable) {
        this.dataSource = builder.dataSource;
        this.dialect = dialect;
        this.tables = builder.tables;
        this.deadLetterTable = deadLetterTable;
        this.tokens = new JdbcTokens(builder.dataSource, builder.tables.tokens(), builder.clock);
        this.deadLetters = new JdbcDeadLetters(builder.dataSource, deadLetterTable);
    }

    /**
     * A store on the default tables ({@code gyre_tokens}, {@code gyre_dead_letters}), creating or upgrading them.
     *
     * @param dataSource a pooled data source for PostgreSQL or H2; it stays the caller's to close
     * @return the store
     * @throws JdbcEventStoreException   when the database cannot be reached
     * @throws EventStoreSchemaException when the schema cannot be created
     */
    public static JdbcProcessingStore create(DataSource dataSource) {
        return builder(dataSource).createSchema(true).build();
    }

    /**
     * @param dataSource a pooled data source for PostgreSQL or H2
     * @return a builder; the dialect is detected from the database unless set
     */
    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /** @return the database dialect */
    public Dialect dialect() {
        return dialect;
    }

    /** @return the tokens table */
    public String tokensTable() {
        return tables.tokens();
    }

    /** @return the dead-letter table */
    public String deadLetterTable() {
        return deadLetterTable;
    }

    // ---- tokens ----

    @Override
    public void initialize(String processor, int segments) {
        tokens.initialize(processor, segments);
    }

    @Override
    public TrackingToken claim(String processor, int segment, String owner, long epoch) {
        return tokens.claim(processor, segment, owner, epoch);
    }

    @Override
    public void update(String processor, int segment, String owner, long epoch, TrackingToken token) {
        tokens.update(processor, segment, owner, epoch, token);
    }

    @Override
    public void release(String processor, int segment, String owner, long epoch) {
        tokens.release(processor, segment, owner, epoch);
    }

    @Override
    public List<SegmentToken> tokens(String processor) {
        return tokens.tokens(processor);
    }

    // ---- dead letters ----

    @Override
    public void add(DeadLetter letter) {
        deadLetters.add(letter);
    }

    @Override
    public List<DeadLetter> list(String processor, int segment) {
        return deadLetters.list(processor, segment);
    }

    @Override
    public void remove(String processor, String eventId) {
        deadLetters.remove(processor, eventId);
    }

    @Override
    public void clear(String processor) {
        deadLetters.clear(processor);
    }

    @Override
    public Map<Integer, Integer> counts(String processor) {
        return deadLetters.counts(processor);
    }

    // ---- transactions ----

    /** @return {@code java.sql.Connection}: handlers of a transactional processor take one */
    @Override
    public Class<?> resourceType() {
        return Connection.class;
    }

    /** @return this store, whose tokens live in the same database as the transactions */
    @Override
    public TokenStore tokenStore() {
        return this;
    }

    @Override
    public ProcessingTransaction begin() {
        Connection connection;
        try {
            connection = dataSource.getConnection();
        } catch (SQLException e) {
            throw SqlErrors.translate("Opening a transaction for a processor on " + dialect + " (tokens in "
                    + tables.tokens() + ")", e);
        }
        try {
            return new JdbcProcessingTransaction(connection, tokens, deadLetters);
        } catch (SQLException e) {
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw SqlErrors.translate("Starting a transaction for a processor", e);
        }
    }

    @Override
    public String toString() {
        return "JdbcProcessingStore[" + dialect + ", " + tables.tokens() + ", " + deadLetterTable + "]";
    }

    /** Configures a {@link JdbcProcessingStore}; each setter checks its value at once. Not thread-safe. */
    public static final class Builder {

        private static final java.util.regex.Pattern TABLE_NAME =
                java.util.regex.Pattern.compile("([A-Za-z_][A-Za-z0-9_]{0,47}\\.)?[A-Za-z_][A-Za-z0-9_]{0,47}");

        private final DataSource dataSource;
        private @Nullable Dialect dialect;
        private TableNames tables = TableNames.defaults();
        private @Nullable String deadLetterTable;
        private boolean createSchema;
        private Clock clock = Clock.systemUTC();

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
         * @param tables the event store's table names: the tokens table and the schema history are used (default
         *               {@link TableNames#defaults()})
         * @return this builder
         */
        public Builder tableNames(TableNames tables) {
            this.tables = Objects.requireNonNull(tables, "tables");
            return this;
        }

        /**
         * @param deadLetterTable the dead-letter table, an identifier optionally qualified by a schema (default: the
         *                        tokens table's name with {@code tokens} replaced by {@code dead_letters}, so
         *                        {@code gyre_dead_letters})
         * @return this builder
         */
        public Builder deadLetterTable(String deadLetterTable) {
            this.deadLetterTable = checkTableName(deadLetterTable, "deadLetterTable");
            return this;
        }

        /**
         * @param createSchema true to create or upgrade the tables on start; false (the builder's default) to only
         *                     check that they exist with every column
         * @return this builder
         */
        public Builder createSchema(boolean createSchema) {
            this.createSchema = createSchema;
            return this;
        }

        /**
         * @param clock stamps the tokens' {@code updated_at} (default: the system clock)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Connects, creates or checks the schema, and returns the store.
         *
         * @return the store
         * @throws JdbcEventStoreException   when the database cannot be reached
         * @throws EventStoreSchemaException when the schema is missing or incomplete and createSchema is false
         */
        public JdbcProcessingStore build() {
            Dialect resolved;
            try (Connection connection = dataSource.getConnection()) {
                resolved = dialect != null ? dialect
                        : Dialect.forProduct(connection.getMetaData().getDatabaseProductName());
            } catch (SQLException e) {
                throw new JdbcEventStoreException("Connecting to the processing store's database failed", e);
            }
            String letters = deadLetterTable != null ? deadLetterTable : defaultDeadLetterTable(tables.tokens());
            ProcessingSchema schema = new ProcessingSchema(dataSource, tables, letters, resolved == Dialect.POSTGRES,
                    resolved.schemaFolder());
            try {
                if (createSchema) {
                    schema.create();
                }
                schema.validate();
            } catch (SQLException e) {
                throw SqlErrors.translate("Preparing the processing schema (" + tables.tokens() + ", " + letters + ")",
                        e);
            }
            return new JdbcProcessingStore(this, resolved, letters);
        }

        private static String defaultDeadLetterTable(String tokens) {
            String name = tokens.endsWith("tokens") ? tokens.substring(0, tokens.length() - "tokens".length())
                    + "dead_letters" : tokens + "_dead_letters";
            if (!TABLE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("The dead-letter table's default name '" + name + "', made from "
                        + "the tokens table '" + tokens + "', is not a valid identifier of at most 48 characters; "
                        + "name it with deadLetterTable(...)");
            }
            return name;
        }

        private static String checkTableName(String name, String role) {
            Objects.requireNonNull(name, role);
            if (!TABLE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("Table name for " + role + " must be an identifier of letters, "
                        + "digits and underscores (at most 48, not starting with a digit), optionally schema-qualified, "
                        + "but was '" + name + "'");
            }
            return name;
        }
    }
}
