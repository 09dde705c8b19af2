package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;

/**
 * One transaction of {@link ProcessingTransactions}: handlers write through its {@link #resource()}, the processor
 * stores the token with {@link #updateToken} and {@link #commit() commits}, and {@link #close()} rolls back whatever
 * was not committed. Used by one thread at a time.
 */
public interface ProcessingTransaction extends AutoCloseable {

    /** @return what handlers write through, of {@link ProcessingTransactions#resourceType()} */
    Object resource();

    /**
     * Stores a segment's token in this transaction, fenced as {@link TokenStore#update} is.
     *
     * @param processor the processor's name
     * @param segment   the segment
     * @param owner     the node that handled the events
     * @param epoch     the epoch it claimed the segment with
     * @param token     the token of the last event handled
     * @throws StaleSegmentOwnerException when the stored owner or epoch is not the caller's; the transaction must
     *                                    then be rolled back
     */
    void updateToken(String processor, int segment, String owner, long epoch, TrackingToken token);

    /**
     * Commits the handlers' writes and the token.
     *
     * @throws io.gyre.GyreTransientException when the commit fails; nothing was stored, or (a lost connection
     *                                        during the commit) it is unknown whether it was
     */
    void commit();

    /** Rolls back unless committed, and releases the resource. */
    @Override
    void close();
}
