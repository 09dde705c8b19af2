package io.gyre.aggregate.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The owner node's cache of sourced aggregates, least recently used first out. Only the thread running a
 * command for an aggregate touches that aggregate's entry (the command bus runs one command per aggregate at
 * a time), so entries need no locking of their own; the map itself is guarded by this object's monitor.
 * A cached entry is only an optimisation: the store's sequence check catches any entry gone stale, and a
 * conflict drops it. Internal: not part of Gyre's API.
 */
public final class AggregateCache {

    /**
     * An aggregate instance with the sequence number of the last event applied to it.
     *
     * @param instance     the aggregate
     * @param lastSequence its last sequence number
     */
    public record Entry(Object instance, long lastSequence) {
    }

    private final int capacity;
    private final LinkedHashMap<String, Entry> entries;

    /**
     * @param capacity the most aggregates kept; 0 disables caching
     */
    public AggregateCache(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("cache capacity must be 0 or more, but was " + capacity);
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > AggregateCache.this.capacity;
            }
        };
    }

    /**
     * @param aggregateId the aggregate
     * @return its entry, or null
     */
    public synchronized @Nullable Entry get(String aggregateId) {
        return entries.get(aggregateId);
    }

    /**
     * @param aggregateId the aggregate
     * @param entry       its state after a stored command
     */
    public synchronized void put(String aggregateId, Entry entry) {
        if (capacity > 0) {
            entries.put(aggregateId, entry);
        }
    }

    /** @param aggregateId the aggregate to forget */
    public synchronized void remove(String aggregateId) {
        entries.remove(aggregateId);
    }

    /**
     * Forgets every aggregate whose id matches, for example those whose ownership moved to another node.
     *
     * @param aggregateIds which ids to forget
     */
    public synchronized void removeIf(Predicate<String> aggregateIds) {
        entries.keySet().removeIf(aggregateIds);
    }

    /** @return the ids of the cached aggregates, a copy */
    public synchronized java.util.List<String> ids() {
        return java.util.List.copyOf(entries.keySet());
    }

    /**
     * Forgets some aggregates.
     *
     * @param aggregateIds the ids to forget; ids not cached are ignored
     */
    public synchronized void removeAll(java.util.Collection<String> aggregateIds) {
        for (String id : aggregateIds) {
            entries.remove(id);
        }
    }

    /** @return the number of cached aggregates */
    public synchronized int size() {
        return entries.size();
    }
}
