package io.gyre.aggregate.internal;

import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * One {@code @EventSourcingHandler} method, invoked through a method handle of the shape
 * {@code (Object aggregate, Object event, Object metadata) -> void}. Internal: not part of Gyre's API.
 *
 * @param eventType   the parameter type it accepts
 * @param description the method as users wrote it, for messages
 * @param invoker     the adapted method handle
 */
public record EventHandlerMember(Class<?> eventType, String description, MethodHandle invoker) {

    /** Checks every part. */
    public EventHandlerMember {
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(invoker, "invoker");
    }

    @Override
    public String toString() {
        return description;
    }
}
