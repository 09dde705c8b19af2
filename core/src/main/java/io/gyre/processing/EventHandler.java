package io.gyre.processing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a plain class (a projection, a notifier) that handles one event type for an event processor
 * ({@link TrackingProcessor} or {@link SubscribingProcessor}).
 *
 * <p>Signature: {@code void on(EventType event, ...)}. The first parameter is the event; it may be a concrete class,
 * an interface or a sealed type. The parameters after it are optional, in any order, each of a distinct type:
 * <ul>
 *   <li>{@link io.gyre.Metadata} — the event's metadata;</li>
 *   <li>{@link io.gyre.eventstore.StreamId} — the aggregate's type and id;</li>
 *   <li>{@link io.gyre.eventstore.TrackingToken} — the event's stored position in the global log (tracking
 *       processors only: a subscribing processor runs before a reader has placed the event);</li>
 *   <li>{@link EventContext} — all of the above and more (sequence number, event id, command id, timestamp);</li>
 *   <li>the resource a {@link Delivery#transactional(ProcessingTransactions) transactional} delivery hands out,
 *       for JDBC a {@code java.sql.Connection}: write the read model through it, and the writes commit together
 *       with the processor's token.</li>
 * </ul>
 *
 * <p>When several methods of one class accept an event, the one whose event parameter is the most specific
 * supertype of the event's class runs; every registered handler object gets its own call. The methods are checked
 * when the handler object is given to the processor's builder, and a wrong signature is refused there, naming the
 * method.
 *
 * <p>A handler runs on the processor's threads, one event at a time per segment: events of one aggregate arrive in
 * sequence order, on one thread at a time, but events of different aggregates may run in parallel on different
 * segments, so a handler object shared by several segments must be thread-safe.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface EventHandler {
}
