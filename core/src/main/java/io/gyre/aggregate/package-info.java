/**
 * The aggregate model users write against: {@link io.gyre.aggregate.Aggregate @Aggregate} classes with an
 * {@link io.gyre.aggregate.AggregateId @AggregateId}, {@link io.gyre.command.CommandHandler @CommandHandler}
 * constructors and methods that decide, and {@link io.gyre.aggregate.EventSourcingHandler
 * @EventSourcingHandler} methods that change state; {@link io.gyre.aggregate.AggregateLifecycle#apply(Object)}
 * records a decision as an event.
 */
@NullMarked
package io.gyre.aggregate;

import org.jspecify.annotations.NullMarked;
