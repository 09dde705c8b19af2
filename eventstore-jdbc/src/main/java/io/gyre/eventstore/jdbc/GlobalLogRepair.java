package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.jdbc.internal.SqlErrors;
import io.gyre.eventstore.jdbc.internal.TransactionIdAdvancer;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The repair of a PostgreSQL event store restored from another server ({@link GlobalLogRestoredException}): it moves
 * the server's transaction ids past the highest one the store holds, in its events or in its processors' tokens, so
 * that readers read the restored events in their order and every new append sorts after them. Nothing stored is
 * changed, so no reader skips or repeats an event.
 *
 * <pre>{@code
 * // Every node of the service stopped:
 * long used = GlobalLogRepair.advanceTransactionIds(dataSource, TableNames.defaults());
 * }</pre>
 *
 * <p>Run it with every node stopped: an append made while it runs would get an id below restored ones and sort
 * before events that readers have passed. It is safe to run twice (the second run finds nothing to do) and to run
 * again after it failed halfway. It uses up one transaction id per id of the gap, which ages the database like as
 * many transactions would (autovacuum freezes them as usual); a gap above {@link #MAX_GAP} is refused, since using up
 * that many ids would bring the server towards transaction id wraparound.
 */
public final class GlobalLogRepair {

    /** The largest gap of transaction ids the repair closes: 100 million, half of autovacuum's freeze age. */
    public static final long MAX_GAP = 100_000_000L;

    private GlobalLogRepair() {
    }

    /**
     * Repairs the store of these tables, taking its events and its tokens table into account.
     *
     * @param dataSource the restored PostgreSQL database
     * @param tables     the store's tables
     * @return how many transaction ids were used up, 0 when the store was not ahead of the server
     * @throws GyreNonTransientException when the gap is above {@link #MAX_GAP}
     * @throws JdbcEventStoreException   when the database fails; running it again goes on where it stopped
     */
    public static long advanceTransactionIds(DataSource dataSource, TableNames tables) {
        return advanceTransactionIds(dataSource, tables, -1);
    }

    /**
     * Repairs the store of these tables, and also passes {@code alsoPast}: the highest {@code commit_order} of
     * tokens kept in another database (a transactional read model's own tokens table).
     *
     * @param dataSource the restored PostgreSQL database
     * @param tables     the store's tables
     * @param alsoPast   a transaction id to pass as well, -1 for none
     * @return how many transaction ids were used up, 0 when nothing was ahead of the server
     * @throws GyreNonTransientException when the gap is above {@link #MAX_GAP}
     * @throws JdbcEventStoreException   when the database fails; running it again goes on where it stopped
     */
    public static long advanceTransactionIds(DataSource dataSource, TableNames tables, long alsoPast) {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(tables, "tables");
        TransactionIdAdvancer advancer = new TransactionIdAdvancer(dataSource);
        try {
            long highest = Math.max(alsoPast, advancer.highestStored(tables.events(), tables.tokens()));
            long next = advancer.serverNext();
            long gap = highest - next + 1;
            if (gap <= 0) {
                return 0;
            }
            if (gap > MAX_GAP) {
                throw new GyreNonTransientException("The event store on " + tables.events() + " holds transaction id "
                        + highest + ", " + gap + " ids ahead of this server's next (" + next + "); using up that many "
                        + "ids is refused above " + MAX_GAP + " because it would bring the server towards transaction "
                        + "id wraparound. This Gyre ships no repair for a gap that wide: keep the old server, or see the "
                        + "README section 'Repairing the global log after a restore' for what is planned");
            }
            return advancer.advancePast(highest);
        } catch (SQLException e) {
            throw SqlErrors.translate("Repairing the global log of " + tables.events(), e);
        }
    }
}
