package io.gyre.aggregate;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the field that holds an aggregate's id. Set it in the {@link EventSourcingHandler} of the creation
 * event; its {@code toString()} must equal the creation command's {@link io.gyre.command.TargetAggregateId}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface AggregateId {
}
