package io.gyre.routing;

/**
 * A contiguous range of routing hashes, {@code first} to {@code last} inclusive, in unsigned order.
 *
 * <p>A range never wraps past the top of the hash space: an arc that does is reported as two ranges, one ending
 * at {@code 0xffffffffffffffff} and one starting at 0. The whole space is {@code KeyRange(0, -1)}.
 *
 * @param first the lowest hash in the range (unsigned)
 * @param last  the highest hash in the range (unsigned), not below {@code first}
 */
public record KeyRange(long first, long last) {

    /**
     * Validates the bounds.
     *
     * @param first the lowest hash in the range (unsigned)
     * @param last  the highest hash in the range (unsigned)
     * @throws IllegalArgumentException if {@code last} is below {@code first} in unsigned order
     */
    public KeyRange {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("last must not be below first (unsigned), but was first="
                    + hex(first) + ", last=" + hex(last));
        }
    }

    /**
     * Whether a hash lies in this range.
     *
     * @param hash a routing hash, see {@link RoutingHash#hash(CharSequence)}
     * @return true if {@code first <= hash <= last} in unsigned order
     */
    public boolean contains(long hash) {
        return Long.compareUnsigned(first, hash) <= 0 && Long.compareUnsigned(hash, last) <= 0;
    }

    /**
     * Whether a routing key hashes into this range.
     *
     * @param routingKey the routing key
     * @return true if its {@link RoutingHash} lies in this range
     * @throws NullPointerException if {@code routingKey} is null
     */
    public boolean containsKey(CharSequence routingKey) {
        return contains(RoutingHash.hash(routingKey));
    }

    /** @return the fraction of the whole hash space that this range covers, in (0, 1] */
    public double fraction() {
        // last - first + 1 overflows to 0 only for the whole space; compute in double to stay exact enough.
        return (toUnsignedDouble(last - first) + 1.0) / 0x1p64;
    }

    @Override
    public String toString() {
        return "KeyRange[" + hex(first) + ".." + hex(last) + "]";
    }

    private static String hex(long v) {
        return String.format("0x%016x", v);
    }

    private static double toUnsignedDouble(long v) {
        return (double) (v >>> 1) * 2.0 + (v & 1);
    }
}
