package io.gyre.aggregate;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an event-sourced aggregate class. The class needs a no-argument constructor (any visibility) for
 * sourcing, exactly one {@link AggregateId} field, and {@link io.gyre.command.CommandHandler} and
 * {@link EventSourcingHandler} members; the rules are checked once, when the class is registered.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Aggregate {

    /**
     * @return the aggregate type name stored with its events; empty means the class's simple name. Keep it
     *         stable once events are stored.
     */
    String type() default "";
}
