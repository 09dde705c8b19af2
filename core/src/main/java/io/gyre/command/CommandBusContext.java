package io.gyre.command;

import io.gyre.serialization.Serializer;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;

/**
 * What a node hands to its command bus when it starts.
 *
 * @param localBus          runs commands on this node
 * @param commandTypes      the command classes this node handles
 * @param serializer        the node's serializer and type allow-list, for commands and results on the wire
 * @param clock             the node's clock
 * @param cachedAggregates  the node's cached aggregates, to drop those whose ownership moves
 */
public record CommandBusContext(LocalCommandBus localBus, Set<Class<?>> commandTypes, Serializer serializer, Clock clock,
                                CachedAggregates cachedAggregates) {

    /** Checks every part and copies the types. */
    public CommandBusContext {
        Objects.requireNonNull(localBus, "localBus");
        commandTypes = Set.copyOf(commandTypes);
        Objects.requireNonNull(serializer, "serializer");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(cachedAggregates, "cachedAggregates");
    }
}
