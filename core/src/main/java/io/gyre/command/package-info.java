/**
 * Sending commands and running them: the {@link io.gyre.command.CommandGateway} users call, the
 * {@link io.gyre.command.CommandBus} abstraction with its {@link io.gyre.command.LocalCommandBus} (one command
 * per aggregate at a time, aggregates in parallel on a bounded pool) and the
 * {@link io.gyre.command.RetryingCommandBus} decorator that retries transient failures under a
 * {@link io.gyre.command.RetryPolicy}. A distributed bus is just another {@code CommandBus} that wraps the
 * local one.
 */
@NullMarked
package io.gyre.command;

import org.jspecify.annotations.NullMarked;
