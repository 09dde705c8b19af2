package io.gyre.processing;

/**
 * Decides which segments of each tracking processor this node runs. The node asks once per processor
 * ({@link #follow}) and is told the owned segments then and after every change; it never polls, and never claims a
 * segment it was not given.
 *
 * <p>{@link LocalSegmentOwnership} gives a single node every segment. A cluster implementation places segments on
 * the cluster's consistent-hash ring over the members that run the processor, so they spread evenly, move when
 * members join or leave, and a dead member's segments are given to others at the next view, with no lease to wait
 * out. Processors work unchanged with either, as long as the implementation keeps this contract:
 * <ol>
 *   <li><b>Whole sets.</b> The listener gets every owned segment each time (not a difference), first during or soon
 *       after {@link #follow}, then after each change. Calls for one processor never overlap and arrive in order.</li>
 *   <li><b>Epochs increase.</b> Every time a segment's ownership changes anywhere in the cluster, the new owner's
 *       epoch for it is higher than every earlier epoch of that segment, on any node. A cluster can use the number
 *       of the membership view that made the change; a single node the time it started.</li>
 *   <li><b>No segment without ownership.</b> The node processes a segment only from the call that gives it until the
 *       call that takes it away. It may believe it still owns a segment for a while after the cluster moved it
 *       (a slow view, a partition): that is what fencing is for.</li>
 *   <li><b>The token store is the final arbiter.</b> On being given a segment the node claims it in the
 *       {@link TokenStore} with its epoch; the claim and every later token update are refused when a newer epoch is
 *       stored, so a stale owner can neither advance nor, in a transactional processor, commit a read model write.
 *       A refused segment shows {@link SegmentState#FENCED} until the next change.</li>
 * </ol>
 */
public interface SegmentOwnership {

    /** @return this node's name as a segment owner, stored with each token it writes; unique in the cluster */
    String owner();

    /**
     * Starts following this node's share of a processor's segments. The node calls it once per processor when it
     * starts, which also tells a cluster that this member runs the processor (a processor that only some members
     * run is spread over those members).
     *
     * @param processor the processor's name
     * @param segments  its segment count
     * @param listener  told the owned segments, at once and after every change
     * @return closing it stops following and leaves the processor; its segments go to other members
     */
    Registration follow(String processor, int segments, Listener listener);

    /**
     * Tells the ownership, right before {@link #follow}, the highest epoch its token store holds for the processor.
     * Every epoch it gives from then on must outrank it: those rows were stored before this node started following
     * (by an earlier run, by a member whose clock ran ahead, or in a store restored from elsewhere), so an ownership
     * whose epochs come from clocks alone would be fenced by them until its clock caught up. Gyre's ownerships raise
     * their incarnation ({@link SegmentEpoch#incarnationToOutrank}). The default does nothing, for an ownership
     * whose epochs cannot fall behind the store.
     *
     * @param processor   the processor's name
     * @param storedEpoch the highest epoch of its rows, 0 when there is none (or the store could not be read)
     */
    default void startAbove(String processor, long storedEpoch) {
    }

    /**
     * Tells the ownership that the token store refused to let this node claim a segment it was given. A cluster
     * learns from it an incarnation that no live member may have told it about (one of a member that died after
     * storing it, whose clock ran ahead), and takes it as if advertised, so that its next view outranks that
     * member's rows. It must not raise itself above the refusing epoch: the refusing owner may be alive, and the
     * owner the cluster agrees on must win. The default does nothing.
     *
     * @param refusal the refusal, with the stored owner and epoch
     */
    default void claimRefused(StaleSegmentOwnerException refusal) {
    }

    /** Receives a processor's owned segments. */
    @FunctionalInterface
    interface Listener {

        /**
         * @param owned every segment this node owns now, with its epoch
         */
        void ownedSegmentsChanged(OwnedSegments owned);
    }

    /** Stops following a processor. */
    @FunctionalInterface
    interface Registration extends AutoCloseable {

        /** Stops following; idempotent. */
        @Override
        void close();
    }
}
