package io.gyre.processing.internal;

import io.gyre.Metadata;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.EventContext;

/**
 * What a parameter after the event of an {@code @EventHandler} receives, chosen by its declared type. The index is
 * the parameter's place in the uniform invoker shape {@link HandlerMethod#SHAPE}. Internal: not part of Gyre's API.
 */
enum HandlerParameter {
    /** The event's {@link Metadata}. */
    METADATA(2),
    /** The whole {@link EventContext}. */
    CONTEXT(3),
    /** The aggregate's {@link StreamId}. */
    STREAM(4),
    /** The event's {@link TrackingToken}. */
    TOKEN(5),
    /** The transactional delivery's resource, such as a JDBC connection. */
    RESOURCE(6);

    private final int index;

    HandlerParameter(int index) {
        this.index = index;
    }

    /** @return the parameter's index in {@link HandlerMethod#SHAPE} */
    int index() {
        return index;
    }

    /**
     * @param type a declared parameter type
     * @return what it receives; anything not known is a resource, checked against the delivery when the processor
     *         is built
     */
    static HandlerParameter forType(Class<?> type) {
        if (type == Metadata.class) {
            return METADATA;
        }
        if (type == EventContext.class) {
            return CONTEXT;
        }
        if (type == StreamId.class) {
            return STREAM;
        }
        if (type == TrackingToken.class) {
            return TOKEN;
        }
        return RESOURCE;
    }
}
