package io.gyre.aggregate;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that applies one event type to an aggregate's state. It runs when a command handler
 * {@link AggregateLifecycle#apply(Object) applies} the event and every time the aggregate is sourced from the
 * store, so it must only change state: no checks, no side effects.
 *
 * <p>Signature: {@code void on(EventType event)} or {@code void on(EventType event, Metadata metadata)}. The
 * handler whose parameter type is the most specific supertype of the event's class is chosen. Concrete
 * parameter types, and the permitted subclasses of sealed ones, are registered for serialization.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface EventSourcingHandler {
}
