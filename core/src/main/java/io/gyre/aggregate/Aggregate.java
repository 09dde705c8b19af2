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
     * @return the aggregate type name: with the aggregate id, it identifies the aggregate's stream, its commands'
     *         keys and its owner in a cluster, and it is stored with every event. Empty means the class's simple
     *         name. 1 to 100 letters, digits or {@code . _ -}, unique among a node's aggregates. Keep it stable once
     *         events are stored: renaming the class is then safe, renaming the aggregate is not.
     */
    String name() default "";
}
