package io.gyre.processing;

import java.util.Objects;

/**
 * When a tracking processor's token moves relative to its handlers' effects.
 *
 * <ul>
 *   <li>{@link #atLeastOnce()} (the default): the token is stored after the handlers of a batch succeeded. A node
 *       that dies in between hands the batch to the next owner, which handles it again, so handlers must tolerate
 *       seeing an event twice (upserts, or keying on {@link EventContext#eventId()}).</li>
 *   <li>{@link #transactional(ProcessingTransactions)}: handlers write through a resource of one transaction (a JDBC
 *       {@code Connection}), and the token is stored in the same transaction: each event's effect is committed
 *       exactly once. It covers writes through that resource only; an e-mail sent from a handler is still sent
 *       again after a rollback.</li>
 * </ul>
 */
public sealed interface Delivery {

    /** @return at-least-once delivery: the token is stored after the handlers succeeded */
    static Delivery atLeastOnce() {
        return AtLeastOnce.INSTANCE;
    }

    /**
     * @param transactions the read model's database, which also keeps the processor's tokens
     * @return delivery with the handlers' writes and the token in one transaction
     */
    static Delivery transactional(ProcessingTransactions transactions) {
        return new Transactional(transactions);
    }

    /** At-least-once delivery. */
    enum AtLeastOnce implements Delivery {
        /** The only instance. */
        INSTANCE;

        @Override
        public String toString() {
            return "at least once";
        }
    }

    /**
     * Transactional delivery.
     *
     * @param transactions the read model's database
     */
    record Transactional(ProcessingTransactions transactions) implements Delivery {

        /** Checks the part. */
        public Transactional {
            Objects.requireNonNull(transactions, "transactions");
        }

        @Override
        public String toString() {
            return "transactional on " + transactions;
        }
    }
}
