package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;

/**
 * One transaction of {@link ProcessingTransactions}: handlers write through its {@link #resource()}, the processor
 * stores the token with {@link #updateToken} (or only checks that it still holds the segment, with {@link #fence})
 * and {@link #commit() commits}, and {@link #close()} rolls back whatever was not committed. Every transaction a
 * processor commits is fenced by one of the two, so a node the token store has superseded commits nothing. Used by
 * one thread at a time.
 *
 * <p>When the {@link ProcessingTransactions} is also the processor's {@link DeadLetterStore} (its letters live in the
 * same database, as {@code JdbcProcessingStore}'s do), the processor writes its dead letters through
 * {@link #addDeadLetter} and {@link #removeDeadLetter}: a letter is then added in the transaction that moves the
 * token past its event, and removed in the transaction of its retried handler's writes.
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
     * Fences this transaction as {@link #updateToken} does, without moving the token: the transaction can commit
     * only while the stored owner and epoch are the caller's. A processor calls it in a transaction that stores no
     * token (a retry of a dead letter), as the last statement before {@link #commit()}. An implementation must keep
     * the check true until the commit, for example by locking the token row (the JDBC store's {@code UPDATE} does).
     *
     * @param processor the processor's name
     * @param segment   the segment
     * @param owner     the node that handled the events
     * @param epoch     the epoch it claimed the segment with
     * @throws StaleSegmentOwnerException when the stored owner or epoch is not the caller's; the transaction must
     *                                    then be rolled back
     */
    void fence(String processor, int segment, String owner, long epoch);

    /**
     * Adds a dead letter in this transaction, with the rules of {@link DeadLetterStore#add}, to the dead-letter
     * store of the same database: it exists once the transaction commits, and never if it rolls back. Needed only
     * when the {@link ProcessingTransactions} is also a {@link DeadLetterStore}; the default refuses.
     *
     * @param letter the letter
     * @throws UnsupportedOperationException when this transaction's database keeps no dead letters
     */
    default void addDeadLetter(DeadLetter letter) {
        throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters: a "
                + "ProcessingTransactions that is also a DeadLetterStore must implement addDeadLetter");
    }

    /**
     * Removes a dead letter in this transaction, with the rules of {@link DeadLetterStore#remove}; needed only when
     * the {@link ProcessingTransactions} is also a {@link DeadLetterStore}; the default refuses.
     *
     * @param processor the processor's name
     * @param eventId   the event's id
     * @throws UnsupportedOperationException when this transaction's database keeps no dead letters
     */
    default void removeDeadLetter(String processor, String eventId) {
        throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters: a "
                + "ProcessingTransactions that is also a DeadLetterStore must implement removeDeadLetter");
    }

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
