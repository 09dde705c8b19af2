package io.gyre.routing;

import java.util.Objects;

/**
 * A range of routing hashes whose owner changed between two rings.
 *
 * @param range the hashes that moved
 * @param from  the id of the owner in the older ring
 * @param to    the id of the owner in the newer ring, different from {@code from}
 */
public record MovedRange(KeyRange range, String from, String to) {

    /**
     * Validates the fields.
     *
     * @param range the hashes that moved
     * @param from  the id of the owner in the older ring
     * @param to    the id of the owner in the newer ring
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code from} equals {@code to}
     */
    public MovedRange {
        Objects.requireNonNull(range, "range must not be null");
        Objects.requireNonNull(from, "from must not be null");
        Objects.requireNonNull(to, "to must not be null");
        if (from.equals(to)) {
            throw new IllegalArgumentException("a moved range needs two different owners, but both were '" + from
                    + "' for " + range);
        }
    }
}
