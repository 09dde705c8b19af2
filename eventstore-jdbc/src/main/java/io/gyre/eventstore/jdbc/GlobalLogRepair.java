package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.jdbc.internal.LogEpochRepair;
import io.gyre.eventstore.jdbc.internal.SqlErrors;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The repair of a PostgreSQL event store restored from another server ({@link GlobalLogRestoredException}): it starts
 * a new log epoch, so that every event appended from then on sorts after every restored one in the global log,
 * whatever the transaction ids of the two servers. Nothing stored is changed: restored events are read in their
 * original order, every processor's token stays valid, and no reader skips or repeats an event.
 *
 * <pre>{@code
 * // Every node of the service stopped:
 * int epoch = GlobalLogRepair.startNewEpoch(dataSource, TableNames.defaults());
 * }</pre>
 *
 * <p>The global log is ordered by (log epoch, transaction id, position), and new events take the epoch from the
 * default of the events table's {@code log_epoch} column; the repair raises that default. It is instant whatever the
 * gap (a catalog change, no row rewritten, no transaction id used up), and it does something only when the log needs
 * it: when the current epoch holds a transaction id the server has not handed out yet, or an event or a token is of a
 * higher epoch. Running it again, or on a healthy store, changes nothing; two runs at once take turns.
 *
 * <p>Stop every node first. The repair locks the events table, waiting up to 30 seconds for appends in flight to end
 * (then it gives up and changes nothing), so it is safe even against a node still appending; but a node that appended
 * to the restored database before the repair did so with the new server's lower ids, which sort before the restored
 * events and may be behind a restored token, and every store refuses to start on a restored database for that reason.
 */
public final class GlobalLogRepair {

    private GlobalLogRepair() {
    }

    /**
     * Repairs the store of these tables, taking its events and its tokens table into account.
     *
     * @param dataSource the restored PostgreSQL database
     * @param tables     the store's tables
     * @return the log epoch new events take: a new one when the log needed it, else the current one
     * @throws EventStoreSchemaException when the events table is missing or older than schema version 6
     * @throws GyreNonTransientException when the data source is not PostgreSQL
     * @throws JdbcEventStoreException   when the database fails, or transactions writing events did not end within
     *                                   30 s; nothing is changed, and running it again is safe
     */
    public static int startNewEpoch(DataSource dataSource, TableNames tables) {
        return startNewEpoch(dataSource, tables, -1);
    }

    /**
     * Repairs the store of these tables, and also takes into account a token kept in another database (a
     * transactional read model's own tokens table): pass the highest {@code commit_order} there.
     *
     * @param dataSource the restored PostgreSQL database
     * @param tables     the store's tables
     * @param alsoPast   the highest {@code commit_order} of tokens kept elsewhere, -1 for none
     * @return the log epoch new events take: a new one when the log needed it, else the current one
     * @throws EventStoreSchemaException when the events table is missing or older than schema version 6
     * @throws GyreNonTransientException when the log is at the last epoch there is (32,767 repairs), or the data
     *                                   source is not PostgreSQL
     * @throws JdbcEventStoreException   when the database fails, or transactions writing events did not end within
     *                                   30 s; nothing is changed, and running it again is safe
     */
    public static int startNewEpoch(DataSource dataSource, TableNames tables, long alsoPast) {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(tables, "tables");
        if (alsoPast < -1) {
            throw new IllegalArgumentException("alsoPast must be a token's commit_order (0 or more) or -1 for none, "
                    + "but was " + alsoPast);
        }
        try {
            return new LogEpochRepair(dataSource, tables).run(alsoPast);
        } catch (SQLException e) {
            throw SqlErrors.translate("Repairing the global log of " + tables.events(), e);
        }
    }
}
