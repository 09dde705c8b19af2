package io.gyre.processing;

/**
 * Transactions on a read model's database in which a tracking processor stores its token together with what its
 * handlers wrote, for {@link Delivery#transactional(ProcessingTransactions)}: a batch of events either changes the
 * read model and moves the token, or does neither. {@code JdbcProcessingStore} (gyre-eventstore-jdbc) implements it
 * over a {@code DataSource}, handing the handlers a {@code java.sql.Connection}.
 *
 * <p>The {@link #tokenStore()} must keep its tokens in the same database, since the processor reads and claims its
 * tokens there and writes them through {@link ProcessingTransaction#updateToken}.
 *
 * <p>An implementation that is also a {@link DeadLetterStore} (as {@code JdbcProcessingStore} is) keeps its letters
 * in the same database and writes them in its transactions ({@link ProcessingTransaction#addDeadLetter}): a
 * processor whose dead-letter store is this object then adds a letter only in the fenced transaction that moves its
 * token past the event, and removes it in the transaction of the retried handler's writes, so an event is never
 * left as a dead letter by a superseded owner, nor applied again after its retry committed. With a dead-letter store
 * apart from this database, letters are written in transactions of their own, and those guarantees do not hold: a
 * retried letter whose removal fails after its handler committed is applied again by the next retry.
 */
public interface ProcessingTransactions {

    /** @return the type of the resource handlers receive, such as {@code java.sql.Connection} */
    Class<?> resourceType();

    /** @return the token store over the same database */
    TokenStore tokenStore();

    /**
     * @return a new transaction
     * @throws io.gyre.GyreTransientException when the database cannot be reached
     */
    ProcessingTransaction begin();
}
