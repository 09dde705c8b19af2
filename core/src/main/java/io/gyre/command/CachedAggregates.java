package io.gyre.command;

import java.util.Collection;
import java.util.List;

/**
 * The aggregates a node keeps loaded, by aggregate type, as a distributed command bus needs to see them: when
 * ownership moves, the bus drops the cached aggregates that moved, so that an aggregate that comes back is loaded
 * fresh. Thread-safe.
 */
public interface CachedAggregates {

    /**
     * @param aggregateType an aggregate type name
     * @return the ids of the cached aggregates of that type, a copy taken now
     */
    List<String> ids(String aggregateType);

    /**
     * Drops cached aggregates.
     *
     * @param aggregateType their type
     * @param ids           their ids; ids not cached are ignored
     */
    void evict(String aggregateType, Collection<String> ids);

    /** Drops every cached aggregate of every type. */
    void evictAll();
}
