package io.gyre.routing;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A member of the ring: a node that can own aggregates.
 *
 * <p>The id must be stable for the life of the node's membership: the member's places on the ring are derived
 * from it (and from the weight), so two nodes agree on owners only if they agree on ids. The weight is the
 * member's relative capacity: a member of weight 2 owns twice the share of one of weight 1. Each unit of weight
 * adds 8,192 points to generate when a ring is built, and a ring's weights may sum to at most
 * {@value HashRing#MAX_TOTAL_WEIGHT}, so weights are meant to be small relative integers (1 for a standard node,
 * 2 for one twice as large), not percentages.
 *
 * @param id           the stable member id, not blank
 * @param weight       the relative capacity, from {@value #MIN_WEIGHT} to {@value #MAX_WEIGHT}
 * @param aggregateTypes the names of the aggregate types this member hosts; a copy is kept, sorted by name
 */
public record Member(String id, int weight, Set<String> aggregateTypes) {

    /** The smallest weight. */
    public static final int MIN_WEIGHT = 1;

    /** The largest weight. Weights are relative; their sum over a ring is bounded by HashRing's limit. */
    public static final int MAX_WEIGHT = 100;

    /**
     * Validates and copies the arguments.
     *
     * @param id           the stable member id
     * @param weight       the relative capacity
     * @param aggregateTypes the aggregate types the member can host
     * @throws NullPointerException     if {@code id}, {@code aggregateTypes} or one of the types is null
     * @throws IllegalArgumentException if {@code id} or an aggregate type is blank, or the weight is out of range
     */
    public Member {
        Objects.requireNonNull(id, "id must not be null");
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank, but was '" + id + "'");
        }
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException(
                    "weight must be between " + MIN_WEIGHT + " and " + MAX_WEIGHT + ", but was " + weight);
        }
        Objects.requireNonNull(aggregateTypes, () -> "aggregateTypes of member '" + id + "' must not be null");
        TreeSet<String> types = new TreeSet<>();
        for (String type : aggregateTypes) {
            Objects.requireNonNull(type, () -> "aggregateTypes of member '" + id + "' must not contain null");
            if (type.isBlank()) {
                throw new IllegalArgumentException(
                        "aggregateTypes of member '" + id + "' must not contain a blank type, but had '" + type + "'");
            }
            types.add(type);
        }
        // Sorted so that toString and error messages read the same on every node and every run.
        aggregateTypes = Collections.unmodifiableSortedSet(types);
    }

    /**
     * Whether this member can host an aggregate type.
     *
     * @param aggregateType the aggregate type name
     * @return true if it is one of {@link #aggregateTypes()}
     */
    public boolean hosts(String aggregateType) {
        return aggregateTypes.contains(aggregateType);
    }
}
