package io.gyre.processing;

import java.time.Instant;
import java.util.Objects;

/**
 * The layout of segment ownership epochs ({@link SegmentOwnership}), shared by every ownership Gyre ships, so that
 * the epochs of a cluster and of a node running alone rank against each other in one token store (a service scaled
 * down to one instance after running as a cluster, or the other way round, takes its segments over). An epoch is one
 * {@code long} made of, from the top bits down,
 * <ol>
 *   <li>the <b>incarnation</b> (31 bits): the start, in seconds since 2025-01-01 UTC, of the youngest member any
 *       member of the cluster has heard of. JGroups view ids start again from 1 when every member has stopped, while
 *       a token store keeps the epochs of the previous run; every member that starts raises the incarnation, so a
 *       cluster started again (and any member that rejoins) outranks every epoch stored before it.</li>
 *   <li>the <b>view id</b> (22 bits): JGroups increases it with every view, and a merge view takes the highest id
 *       of the merged sides plus one, so a view change (a member that died, a partition that healed) outranks
 *       everything decided in earlier views.</li>
 *   <li>the <b>changes</b> (10 bits): the sum, over the members of the view, of how many times each changed its
 *       set of processors, plus how many announced their departure. Each part only grows within a view, so two
 *       members that computed the same sum in one view saw the same processors, hence the same placement.</li>
 * </ol>
 * Members compute epochs alone, from what they have received; while advertisements are in flight they may
 * disagree, but each part of a member's inputs only grows toward the final state, so the epoch of the settled
 * placement is at least every epoch a member computed on the way, and equal only for the same placement.
 *
 * <p>Limits: a part that outgrows its bits saturates (and the caller logs it): 4 million views without a new member
 * starting, 1,023 processor changes among the members of one view; the incarnation lasts until 2093 and trusts the
 * members' clocks not to lag behind a previous run's youngest member.
 *
 * <p>A node running alone ({@link LocalSegmentOwnership}) takes {@link #ofNodeAlone}: its start as the incarnation,
 * above every view id, with the milliseconds of its start second last. It outranks every epoch stored by a cluster
 * (or a node alone) that started earlier, and a cluster started after it outranks it in turn.
 *
 * <p><b>Clocks are not trusted alone.</b> A member whose clock runs ahead stores epochs of an incarnation in the
 * future; once it is gone, its rows would outrank every epoch the others compute from their own clocks, and fence
 * them until their clocks catch up (hours, or the 30 days of a badly set clock). So the token store is a second
 * source of incarnations, next to the clocks: a member that starts never takes an incarnation below
 * {@link #incarnationToOutrank} of the highest epoch stored for its processors (it starts after everything stored
 * there), and a cluster member whose claim is refused takes the incarnation of the refusing epoch
 * ({@link #incarnationIn}) as if a member had advertised it. Both only ever raise the incarnation, which is the one
 * input every member already passes on to the others, so the members still agree on it (see the ownerships' own
 * documentation for why this keeps one owner per segment).
 */
public final class SegmentEpoch {

    /** 2025-01-01T00:00:00Z, the zero of incarnations. */
    public static final Instant ORIGIN = Instant.parse("2025-01-01T00:00:00Z");
    static final int VIEW_BITS = 22;
    static final int CHANGE_BITS = 10;
    static final long MAX_INCARNATION = (1L << 31) - 1;
    static final long MAX_VIEW = (1L << VIEW_BITS) - 1;
    static final long MAX_CHANGES = (1L << CHANGE_BITS) - 1;

    private SegmentEpoch() {
    }

    /**
     * @param start when a member started
     * @return its incarnation: seconds since {@link #ORIGIN}, at least 0 and at most {@code 2^31 - 1}
     */
    public static long incarnationOf(Instant start) {
        return clamp(start.getEpochSecond() - ORIGIN.getEpochSecond(), MAX_INCARNATION);
    }

    /**
     * @param incarnation the cluster's incarnation
     * @param viewId      the JGroups view id
     * @param changes     the processor changes and departures in the view
     * @return the epoch, 1 or more; each part saturates at its largest value
     */
    public static long of(long incarnation, long viewId, long changes) {
        long epoch = clamp(incarnation, MAX_INCARNATION) << (VIEW_BITS + CHANGE_BITS)
                | clamp(viewId, MAX_VIEW) << CHANGE_BITS
                | clamp(changes, MAX_CHANGES);
        return Math.max(1, epoch);
    }

    /**
     * @param epoch an epoch made by {@link #of} or {@link #ofNodeAlone}, or 0 for none
     * @return its incarnation (0 for an epoch below 1)
     */
    public static long incarnationIn(long epoch) {
        return Math.max(0, epoch) >>> (VIEW_BITS + CHANGE_BITS);
    }

    /**
     * The lowest incarnation whose every epoch, cluster or node alone, outranks a stored one: what a member that starts
     * after that epoch was stored must take at least, whatever its clock says.
     *
     * @param storedEpoch the highest epoch stored, 0 when none is
     * @return one above its incarnation; {@code 2^31 - 1} at most, which no longer outranks an epoch of that same
     *         incarnation (see {@link #saturates})
     */
    public static long incarnationToOutrank(long storedEpoch) {
        return storedEpoch < 1 ? 0 : Math.min(incarnationIn(storedEpoch) + 1, MAX_INCARNATION);
    }

    /**
     * @param start when the node started
     * @return the epoch of every segment of a node that runs alone: above every cluster epoch of the same or an earlier
     *         incarnation, and ordered by the milliseconds of the start within that second
     */
    public static long ofNodeAlone(Instant start) {
        long millisOfSecond = Math.floorMod(start.toEpochMilli(), 1000L);
        return of(incarnationOf(start), MAX_VIEW, millisOfSecond);
    }

    /**
     * @param start       when the node started
     * @param storedEpoch the highest epoch its token store holds for a processor, 0 when none
     * @return {@link #ofNodeAlone} of the start when it outranks the stored epoch; otherwise (a clock behind an earlier
     *         run's, a run whose clock was ahead, a restored store) the same layout at the incarnation
     *         {@link #incarnationToOutrank} of the stored epoch
     */
    public static long ofNodeAlone(Instant start, long storedEpoch) {
        Objects.requireNonNull(start, "start");
        long fromClock = ofNodeAlone(start);
        if (fromClock > storedEpoch) {
            return fromClock;
        }
        return of(incarnationToOutrank(storedEpoch), MAX_VIEW, Math.floorMod(start.toEpochMilli(), 1000L));
    }

    /**
     * @param incarnation an incarnation
     * @param viewId      a view id
     * @param changes     a count of changes
     * @return true when a part does not fit and saturates: epochs stop increasing until the incarnation moves
     */
    public static boolean saturates(long incarnation, long viewId, long changes) {
        return incarnation > MAX_INCARNATION || viewId > MAX_VIEW || changes > MAX_CHANGES;
    }

    private static long clamp(long value, long max) {
        return Math.max(0, Math.min(value, max));
    }
}
