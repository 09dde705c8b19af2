package io.gyre.eventstore.jdbc.internal;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.TrackingToken;

/**
 * The ordering key of PostgreSQL's global log, {@code (log_epoch, transaction_id, global_position)}, and how a
 * {@link TrackingToken} carries it. Internal: not part of Gyre's API.
 *
 * <p><b>Why an epoch.</b> Transaction ids order the log only while they come from one server. After a
 * {@code pg_dump}/restore or an upgrade by logical replication the stored ids come from the old server and may be
 * above the new one's; the repair ({@code GlobalLogRepair.startNewEpoch}) raises the default of the {@code log_epoch}
 * column, so every event appended afterwards sorts after every restored one, whatever the two servers' ids.
 *
 * <p><b>Why a column default.</b> New events take the epoch from the column's {@code DEFAULT}, which the repair
 * changes with {@code ALTER TABLE … ALTER COLUMN log_epoch SET DEFAULT n}: a catalog change that rewrites no row, costs
 * an append nothing (no lookup, no trigger, no change to the insert), and is the one place that says which epoch is
 * current, read by appends and readers alike. Its {@code ACCESS EXCLUSIVE} lock is the barrier that makes the epoch
 * safe to follow: it waits until every transaction that inserted events has ended, so when a reader sees epoch
 * {@code n} as current, every event of an older epoch has committed or rolled back, and the snapshot horizon
 * ({@code pg_snapshot_xmin}) applies to the current epoch only. A one-row table would need the insert to read it (a
 * change to every append) or a trigger (a cost on every row).
 *
 * <p><b>How a token carries it.</b> A token's commit order packs the epoch above the transaction id:
 * {@code epoch × 2^48 + id}, so tokens compare in log order without a new token column in any store, and tokens
 * stored before epochs existed (ids below 2^48) read as epoch 0. PostgreSQL's own 64-bit ids pack its wraparound
 * epoch the same way; 2^48 ids are some 65,000 wraparounds, which no server reaches, and an id beyond is refused by
 * {@link #commitOrder} rather than mis-ordered.
 */
public final class PostgresLogOrder {

    /** The bits of a commit order that hold the transaction id; the epoch is above them. */
    static final int ID_BITS = 48;

    /** The highest transaction id a token can carry. */
    public static final long MAX_TRANSACTION_ID = (1L << ID_BITS) - 1;

    /** The highest epoch: the column is a {@code SMALLINT}, and epoch × 2^48 must stay a positive {@code long}. */
    public static final int MAX_EPOCH = Short.MAX_VALUE;

    private PostgresLogOrder() {
    }

    /**
     * @param epoch         an event's log epoch
     * @param transactionId its transaction id
     * @return the commit order of a token at that event
     * @throws GyreNonTransientException when either is out of range
     */
    public static long commitOrder(int epoch, long transactionId) {
        if (epoch < 0 || epoch > MAX_EPOCH || transactionId < 0 || transactionId > MAX_TRANSACTION_ID) {
            throw new GyreNonTransientException("A global log position of epoch " + epoch + " and transaction id "
                    + transactionId + " cannot be put in a tracking token, which holds epochs 0 to " + MAX_EPOCH
                    + " and transaction ids 0 to " + MAX_TRANSACTION_ID);
        }
        return ((long) epoch << ID_BITS) | transactionId;
    }

    /**
     * @param commitOrder a token's commit order
     * @return its log epoch
     */
    public static int epoch(long commitOrder) {
        return (int) (commitOrder >>> ID_BITS);
    }

    /**
     * @param commitOrder a token's commit order
     * @return its transaction id
     */
    public static long transactionId(long commitOrder) {
        return commitOrder & MAX_TRANSACTION_ID;
    }

    /**
     * @param commitOrder a token's commit order
     * @return it as people read it, for messages: {@code epoch 1, transaction 1234}
     */
    public static String describe(long commitOrder) {
        return "epoch " + epoch(commitOrder) + ", transaction " + transactionId(commitOrder);
    }

    /**
     * The SQL of the current epoch: the {@code log_epoch} column's default, which is what appends write.
     *
     * @param eventsTable the events table (a validated identifier, so safe in a literal)
     * @return a scalar subquery giving the current epoch as a {@code smallint}
     */
    static String currentEpochSql(String eventsTable) {
        // The default reads back as 0 or as '1'::smallint, depending on how it was set; its digits are the epoch (the
        // schema check refuses any other default).
        return "(SELECT CAST(substring(pg_get_expr(d.adbin, d.adrelid) FROM '[0-9]+') AS smallint)"
                + " FROM pg_attrdef d JOIN pg_attribute a"
                + " ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = CAST('" + eventsTable
                + "' AS regclass) AND a.attname = 'log_epoch')";
    }

    /**
     * Whether a store's log needs a new epoch: its current epoch holds an id this server has not handed out yet, or an
     * event or a token is of an epoch above the current one (the default was lowered, or data was restored into a
     * schema created anew). Readers would silently get nothing from such events, and new ones would sort before them.
     *
     * @param currentEpoch the epoch new events take
     * @param newest       the commit order of the newest stored event or of a token, -1 for none
     * @param serverNext   the next transaction id the server hands out
     * @return true when it is ahead of what this server can follow
     */
    public static boolean aheadOfServer(int currentEpoch, long newest, long serverNext) {
        if (newest < 0) {
            return false;
        }
        int epoch = epoch(newest);
        return epoch > currentEpoch || epoch == currentEpoch && transactionId(newest) >= serverNext;
    }
}
