package io.gyre.processing;

/**
 * Transactions on a read model's database in which a tracking processor stores its token together with what its
 * handlers wrote, for {@link Delivery#transactional(ProcessingTransactions)}: a batch of events either changes the
 * read model and moves the token, or does neither. {@code JdbcProcessingStore} (gyre-eventstore-jdbc) implements it
 * over a {@code DataSource}, handing the handlers a {@code java.sql.Connection}.
 *
 * <p>The {@link #tokenStore()} must keep its tokens in the same database, since the processor reads and claims its
 * tokens there and writes them through {@link ProcessingTransaction#updateToken}.
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
