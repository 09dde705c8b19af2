package io.gyre.command;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a member of an {@link io.gyre.aggregate.Aggregate} that handles one command type, the type of its
 * first parameter.
 *
 * <ul>
 *   <li>On a <b>constructor</b>: the command creates the aggregate. It fails with
 *       {@link io.gyre.aggregate.AggregateAlreadyExistsException} when the target id already has events. It
 *       must apply at least one event, whose handler sets the {@link io.gyre.aggregate.AggregateId}. The
 *       command's result is the aggregate id.</li>
 *   <li>On a <b>method</b>: the command runs on the current state of an existing aggregate, and fails with
 *       {@link io.gyre.aggregate.AggregateNotFoundException} when there is none. The method's return value is
 *       the command's result.</li>
 * </ul>
 *
 * <p>An optional second parameter of type {@link io.gyre.Metadata} or {@link CommandMessage} receives the
 * command's metadata or the whole message. The command type needs a {@link TargetAggregateId} member, and
 * only one aggregate of a node may handle it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR})
public @interface CommandHandler {
}
