package io.gyre.routing;

import io.gyre.routing.internal.XxHash64;

/**
 * The hash that places a routing key on the ring: XXH64 with the fixed seed {@link #SEED} over the key's UTF-8
 * bytes.
 *
 * <p>It is part of the wire contract of a cluster: every node, on every JVM and every Gyre version, must place a
 * key at the same position, so it depends neither on {@link String#hashCode()} nor on a library. The key is
 * encoded and hashed in one loop, without allocating. Unpaired surrogates hash as {@code '?'}, the byte that
 * {@code String.getBytes(UTF_8)} writes for them.
 */
public final class RoutingHash {

    /** The XXH64 seed of routing keys ("gyre-key" in ASCII). */
    public static final long SEED = 0x6779_7265_2D6B_6579L;

    private RoutingHash() {
    }

    /**
     * The position of a routing key on the ring, an unsigned 64-bit value.
     *
     * @param routingKey the routing key, usually an aggregate id
     * @return XXH64 of the key's UTF-8 bytes with seed {@link #SEED}
     * @throws NullPointerException if {@code routingKey} is null
     */
    public static long hash(CharSequence routingKey) {
        if (routingKey == null) {
            throw new NullPointerException("routingKey must not be null");
        }
        return XxHash64.hashUtf8(routingKey, SEED);
    }
}
