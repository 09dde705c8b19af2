package io.gyre.aggregate;

import io.gyre.Metadata;
import io.gyre.aggregate.internal.Invocation;

/**
 * What a command handler calls to record its decisions. Import it statically:
 * {@code import static io.gyre.aggregate.AggregateLifecycle.apply;}.
 */
public final class AggregateLifecycle {

    private AggregateLifecycle() {
    }

    /**
     * Records an event and applies it to the aggregate's state through its {@link EventSourcingHandler}. The
     * event is stored, with the others the command applied, when the handler returns without throwing; if the
     * handler throws, nothing is stored.
     *
     * <p>In a creation constructor the aggregate does not exist yet: the events are applied once the
     * constructor returns. While the aggregate is being sourced from stored events, calls are ignored.
     *
     * @param event the event, an instance of a registered type
     * @throws AggregateLifecycleException when called outside a command handler
     */
    public static void apply(Object event) {
        apply(event, Metadata.empty());
    }

    /**
     * Records an event with metadata; see {@link #apply(Object)}.
     *
     * @param event    the event
     * @param metadata metadata stored with it
     * @throws AggregateLifecycleException when called outside a command handler
     */
    public static void apply(Object event, Metadata metadata) {
        java.util.Objects.requireNonNull(event, "event");
        java.util.Objects.requireNonNull(metadata, "metadata");
        Invocation.applyInCurrent(event, metadata);
    }
}
