package io.gyre.eventstore;

/**
 * An event store: the shared, durable log that every node of a cluster appends to and sources from. Its
 * optimistic sequence check is the final guard against two nodes writing one aggregate on stale state.
 *
 * <p>Implementations are thread-safe. The conformance suites in Gyre's core test-jar specify the behaviour
 * every implementation must show.
 */
public interface EventStore extends AppendEvents, ReadEventStream, ReadAllEvents, FindCommand, AutoCloseable {

    /** Releases the store's resources; idempotent. The default does nothing. */
    @Override
    default void close() {
    }
}
