/**
 * The event store SPI and an in-memory implementation.
 *
 * <p>A store is composed of small role interfaces: {@link io.gyre.eventstore.AppendEvents} (append one
 * command's events with an optimistic sequence check), {@link io.gyre.eventstore.ReadEventStream} (source one
 * aggregate) and {@link io.gyre.eventstore.ReadAllEvents} (follow the global log, for processors). Sequence
 * numbers of one aggregate start at 0 and are contiguous; a unique (aggregate id, sequence number) key makes the
 * store reject a stale writer with a {@link io.gyre.eventstore.ConcurrencyConflictException}.
 *
 * <p>Payloads and metadata reach the store already serialized as JSON text, so a store never needs to know the
 * application's classes.
 */
@NullMarked
package io.gyre.eventstore;

import org.jspecify.annotations.NullMarked;
