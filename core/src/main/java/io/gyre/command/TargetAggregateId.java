package io.gyre.command;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the member of a command that names the aggregate it targets: a record component, a field, or a
 * no-argument getter. Its value's {@code toString()} is the routing key, so every command for one aggregate
 * goes to the same place; a null or blank value is refused with a
 * {@link MissingTargetAggregateIdException}. Exactly one member of a command type carries it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.FIELD, ElementType.METHOD})
public @interface TargetAggregateId {
}
