package io.gyre.routing.internal;

/**
 * Where a member's points lie on the ring. They depend on the member id and weight only, never on the other
 * members, which is what makes a membership change move keys to or from the changed member alone.
 *
 * <p>Point {@code i} of a member is {@code splitmix64(base + (i + 1) * GOLDEN)} with the low 16 bits cleared,
 * where {@code base} is the XXH64 of the id's UTF-8 bytes: one string hash per member, then a few arithmetic
 * operations per point, so thousands of points per member cost microseconds instead of thousands of string hashes.
 * Point {@code i} does not depend on the weight, so raising a member's weight only adds points, and moves keys to
 * that member only.
 *
 * <p>Positions are multiples of 2^16 so that a point and its owner's index fit in one {@code long} while a ring
 * is built (see {@link OwnerTable}); 48 bits of position still make two equal positions among a million points a
 * one in a thousand event per ring, and then the member id that sorts first wins, as for any tie.
 */
public final class VirtualNodes {

    /**
     * Points per unit of weight. A member's share of the space is a sum of this many arcs per unit of weight, so
     * its relative standard deviation is about {@code 1/sqrt(8192) = 1.1%}. Part of the placement contract: all
     * nodes of a cluster must use the same value.
     */
    public static final int POINTS_PER_WEIGHT = 8192;

    /** Seed of the member id hash, distinct from the routing key seed ("gyre-mem" in ASCII). */
    static final long MEMBER_SEED = 0x6779_7265_2D6D_656DL;

    /** The low bits of a position, always zero, which carry the owner while a ring is built. */
    static final long OWNER_MASK = 0xFFFF;

    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

    private VirtualNodes() {
    }

    /**
     * The base from which a member's points are derived.
     *
     * @param memberId the member id
     * @return XXH64 of the id's UTF-8 bytes with {@link #MEMBER_SEED}
     */
    public static long base(String memberId) {
        return XxHash64.hashUtf8(memberId, MEMBER_SEED);
    }

    /**
     * The position of one point of a member.
     *
     * @param base  the member's {@link #base(String)}
     * @param point the point number, from 0
     * @return its unsigned position on the ring, a multiple of 2^16
     */
    public static long point(long base, int point) {
        long z = base + (point + 1L) * GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return (z ^ (z >>> 31)) & ~OWNER_MASK;
    }
}
