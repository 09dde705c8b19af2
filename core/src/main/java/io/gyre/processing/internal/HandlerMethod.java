package io.gyre.processing.internal;

import io.gyre.Metadata;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.EventContext;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One {@code @EventHandler} method, invoked through a method handle of the uniform shape {@link #SHAPE}, whatever
 * parameters the method declares. Internal: not part of Gyre's API.
 *
 * @param eventType    the event parameter's type
 * @param description  the method as users wrote it, for messages
 * @param invoker      the adapted method handle, of shape {@link #SHAPE}
 * @param parameters   what the parameters after the event receive
 * @param resourceType the declared type of the resource parameter, null when there is none
 */
record HandlerMethod(Class<?> eventType, String description, MethodHandle invoker, Set<HandlerParameter> parameters,
                     @Nullable Class<?> resourceType) {

    /** (handler object, event, metadata, context, stream, token, resource) to void. */
    static final MethodType SHAPE = MethodType.methodType(void.class, Object.class, Object.class, Metadata.class,
            EventContext.class, StreamId.class, TrackingToken.class, Object.class);

    /** Checks every part. */
    HandlerMethod {
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(invoker, "invoker");
        parameters = Set.copyOf(parameters);
    }

    /** @return true when the method reads the metadata, itself or through the context */
    boolean needsMetadata() {
        return parameters.contains(HandlerParameter.METADATA) || parameters.contains(HandlerParameter.CONTEXT);
    }

    @Override
    public String toString() {
        return description;
    }
}
