package io.gyre.eventstore.conformance;

import io.gyre.eventstore.EventStore;

/**
 * Hands a conformance suite a fresh, empty store for each test. Implement it in a few lines per store and
 * return it from the suite's {@code createFixture()}.
 *
 * <p>Capability flags have no defaults: a store must say what it can do, so that a forgotten flag fails the
 * suite instead of quietly leaving a capability untested.
 */
public interface EventStoreFixture extends AutoCloseable {

    /** @return the store under test; empty when the test starts, the same instance on every call */
    EventStore store();

    /**
     * @return true when the store keeps its events across {@link #reopen()}; a store that answers false must
     *         refuse {@link #reopen()} with an {@link UnsupportedOperationException}
     */
    boolean durable();

    /**
     * Closes the store and opens a new instance over the same data, as after a process restart.
     *
     * @return the new instance, also returned by {@link #store()} from now on
     * @throws UnsupportedOperationException when the store is not {@link #durable()}
     */
    default EventStore reopen() {
        throw new UnsupportedOperationException("this store keeps nothing across a restart");
    }

    /** Closes the store and drops its data. */
    @Override
    void close();
}
