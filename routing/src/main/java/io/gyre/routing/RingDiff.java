package io.gyre.routing;

import io.gyre.routing.internal.OwnerTable;
import io.gyre.routing.internal.TableDiff;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The key ranges whose owner changed between two rings, and which member each moved from and to.
 *
 * <p>Owners are compared by member id: a member that stays but changes weight keeps the keys it still owns. The
 * ranges are sorted by their first hash, do not overlap, and consist of whole cells of the ring (2^44 hashes
 * each); adjacent cells with the same pair of owners form one range. After a single join or leave, every range
 * moves to or from the member that changed.
 *
 * <p>Computing a diff compares the two rings cell by cell (about a millisecond); asking
 * {@link #movedAway(CharSequence, String)} afterwards is a binary search over the moved ranges.
 */
public final class RingDiff {

    private final long olderVersion;
    private final long newerVersion;
    private final List<MovedRange> movedRanges;
    // First hashes with the sign bit flipped, so that a signed binary search follows unsigned order.
    private final long[] firsts;

    private RingDiff(long olderVersion, long newerVersion, List<MovedRange> movedRanges) {
        this.olderVersion = olderVersion;
        this.newerVersion = newerVersion;
        this.movedRanges = Collections.unmodifiableList(movedRanges);
        this.firsts = new long[movedRanges.size()];
        for (int i = 0; i < firsts.length; i++) {
            firsts[i] = movedRanges.get(i).range().first() ^ Long.MIN_VALUE;
        }
    }

    /**
     * The diff of the rings as if every member hosted every aggregate type: the right diff when all members
     * host the same types, the usual cluster.
     *
     * @param older the ring before the change
     * @param newer the ring after the change
     * @return the moved ranges
     * @throws NullPointerException if an argument is null
     */
    public static RingDiff between(HashRing older, HashRing newer) {
        Objects.requireNonNull(older, "older must not be null");
        Objects.requireNonNull(newer, "newer must not be null");
        return between(older, older.allMembersTable(), newer, newer.allMembersTable());
    }

    /**
     * The diff of the owners of one aggregate type.
     *
     * @param older       the ring before the change
     * @param newer       the ring after the change
     * @param aggregateType the aggregate type name
     * @return the moved ranges
     * @throws NullPointerException      if an argument is null
     * @throws IllegalArgumentException  if {@code aggregateType} is blank
     * @throws NoEligibleMemberException if no member of one of the rings hosts {@code aggregateType}
     */
    public static RingDiff between(HashRing older, HashRing newer, String aggregateType) {
        Objects.requireNonNull(older, "older must not be null");
        Objects.requireNonNull(newer, "newer must not be null");
        return between(older, older.tableFor(aggregateType), newer, newer.tableFor(aggregateType));
    }

    private static RingDiff between(HashRing older, OwnerTable olderTable, HashRing newer, OwnerTable newerTable) {
        List<Member> olderMembers = older.members();
        List<Member> newerMembers = newer.members();
        Map<String, Integer> olderIndex = new HashMap<>();
        for (int i = 0; i < olderMembers.size(); i++) {
            olderIndex.put(olderMembers.get(i).id(), i);
        }
        int[] newerToOlder = new int[newerMembers.size()];
        for (int i = 0; i < newerToOlder.length; i++) {
            newerToOlder[i] = olderIndex.getOrDefault(newerMembers.get(i).id(), -1);
        }
        List<MovedRange> moved = new ArrayList<>();
        TableDiff.diff(olderTable, newerTable, newerToOlder, (firstCell, lastCell, from, to) -> moved.add(
                new MovedRange(new KeyRange(OwnerTable.firstHash(firstCell), OwnerTable.lastHash(lastCell)),
                        olderMembers.get(from).id(), newerMembers.get(to).id())));
        return new RingDiff(older.version(), newer.version(), moved);
    }

    /** @return the version of the older ring */
    public long olderVersion() {
        return olderVersion;
    }

    /** @return the version of the newer ring */
    public long newerVersion() {
        return newerVersion;
    }

    /** @return the ranges whose owner changed, sorted by first hash, not overlapping */
    public List<MovedRange> movedRanges() {
        return movedRanges;
    }

    /** @return true if no key changed owner */
    public boolean isEmpty() {
        return movedRanges.isEmpty();
    }

    /** @return the fraction of the hash space whose owner changed, from 0 to 1 */
    public double movedFraction() {
        double sum = 0;
        for (MovedRange r : movedRanges) {
            sum += r.range().fraction();
        }
        return sum;
    }

    /**
     * Whether a key that the member owned in the older ring is owned by another member in the newer one: the
     * question to ask before trusting a cached aggregate after a ring change.
     *
     * @param routingKey the routing key
     * @param memberId   the member id
     * @return true if {@code memberId} owned the key before and does not now
     * @throws NullPointerException if an argument is null
     */
    public boolean movedAway(CharSequence routingKey, String memberId) {
        Objects.requireNonNull(memberId, "memberId must not be null");
        MovedRange r = rangeOf(RoutingHash.hash(routingKey));
        return r != null && r.from().equals(memberId);
    }

    /**
     * The keys whose owner changed to or from one member, as a test that costs one hash and one bit per key: the
     * question a member asks of every aggregate it has cached after a ring change, thousands of times in a row.
     * Moved ranges are whole cells, so a bit per cell of the ring (128 KiB) answers it exactly.
     *
     * @param memberId the member
     * @return the test, true for a key that moved to or away from the member
     * @throws NullPointerException if {@code memberId} is null
     */
    public java.util.function.Predicate<CharSequence> movedToOrFrom(String memberId) {
        Objects.requireNonNull(memberId, "memberId must not be null");
        java.util.BitSet cells = new java.util.BitSet(OwnerTable.CELLS);
        for (MovedRange r : movedRanges) {
            if (r.from().equals(memberId) || r.to().equals(memberId)) {
                int first = (int) (r.range().first() >>> OwnerTable.CELL_SHIFT);
                int last = (int) (r.range().last() >>> OwnerTable.CELL_SHIFT);
                cells.set(first, last + 1);
            }
        }
        return key -> cells.get((int) (RoutingHash.hash(key) >>> OwnerTable.CELL_SHIFT));
    }

    /**
     * The moved range that contains a key, if the key moved.
     *
     * @param routingKey the routing key
     * @return the range, or null if the key's owner did not change
     * @throws NullPointerException if {@code routingKey} is null
     */
    public MovedRange movedRangeOf(CharSequence routingKey) {
        return rangeOf(RoutingHash.hash(routingKey));
    }

    private MovedRange rangeOf(long hash) {
        int i = Arrays.binarySearch(firsts, hash ^ Long.MIN_VALUE);
        if (i < 0) {
            i = -i - 2;
        }
        if (i < 0) {
            return null;
        }
        MovedRange r = movedRanges.get(i);
        return r.range().contains(hash) ? r : null;
    }

    @Override
    public String toString() {
        return "RingDiff[" + olderVersion + " -> " + newerVersion + ", " + movedRanges.size() + " ranges, "
                + String.format("%.4f", movedFraction()) + " of the key space moved]";
    }
}
