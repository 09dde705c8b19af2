package io.gyre.routing.jgroups;

import io.gyre.processing.OwnedSegments;
import io.gyre.processing.SegmentEpoch;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.routing.SegmentPlacement;
import io.gyre.routing.jgroups.internal.ProcessorMembership;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The segments of tracking processors that this member owns, placed by {@link SegmentPlacement} over the members
 * that run each processor, with the epochs of {@link SegmentEpoch}. The
 * {@link ProcessorsKeeper} hands every state of the processors' membership to {@link #publish} on the membership
 * thread, in the order the states were made, so listeners are called off the JGroups threads, one call at a time,
 * in order.
 *
 * <p>Every owned segment is given again, with the new epoch, whenever the epoch changes, even when its owner did
 * not: members apply advertisements from different senders in different orders, so another member may have
 * believed for a moment that it owned the segment and claimed it with an epoch between the old and the new one;
 * claiming again with the settled epoch is what takes the segment back from such a claim instead of staying fenced.
 * The cost, at each change of the epoch (a view, a member's set of processors), is a claim per owned segment and
 * the batch in flight handled again (delivery is at least once).
 *
 * <p><b>Incarnations from the token store.</b> The incarnation, the top part of every epoch, is the newest member
 * start any member heard of, taken from the members' clocks. A member whose clock runs ahead stores rows the others'
 * clocks cannot outrank; once it is gone nobody advertises its incarnation any more, and the survivors would be
 * fenced by its rows until their clocks caught up. So the token store is read too, and only ever raises the
 * incarnation:
 * <ul>
 *   <li>{@link #startAbove}: a member that starts following a processor takes at least one above the incarnation
 *       of the highest epoch stored for it. It starts after all of those rows were written, exactly what a clock
 *       start promises, so this is the same raise as a member starting with a later clock (a rolling restart, a
 *       cluster started again after a run whose clock was ahead, a restored store).</li>
 *   <li>{@link #claimRefused}: a member whose claim is refused takes the refusing epoch's incarnation, as if the
 *       member that stored it had advertised it, and never more. If that member is dead, the next view (a newer view
 *       id at the same incarnation) outranks its rows; if it is alive, it already advertised that incarnation, or
 *       will, so nothing changes that an advertisement would not have changed.</li>
 * </ul>
 * Why one owner still wins: within an incarnation, epochs are ordered as before. A raised incarnation is passed on
 * (advertised) like one heard from a member, and every member keeps the highest it heard or read, so the live
 * members converge on one incarnation, the highest anywhere; incarnations only grow, so the epoch of the settled
 * placement, at that incarnation and the last view, is still at least every epoch any member computed on the way,
 * and equal only for the same placement (within one line of views: both sides of a partition can number their next
 * view alike, a limit that does not depend on clocks). A member that claimed with a stale placement at a lower
 * incarnation is outranked by the settled owner's claim. Raises are bounded: a start raises once per processor, a
 * refusal never past the refusing epoch, so two members cannot outbid each other forever.
 *
 * <p>A member whose clock runs far ahead while alive is believed too ({@link ProcessorMembership} only reports it):
 * refusing its advertisement would not keep its incarnation out of the token store, since it claims with it anyway,
 * and would only make the members place segments differently while it lives.
 */
final class ClusterSegments implements SegmentOwnership {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    /** A processor followed on this member. Its last fields are touched on the membership thread only. */
    private static final class Follower {
        final String processor;
        final int segments;
        final Listener listener;
        volatile boolean closed;
        @Nullable Map<Integer, Long> published;
        /** The members already reported for running this processor with another segment count. */
        final java.util.Set<String> disagreeing = new java.util.HashSet<>();
        volatile Map<Integer, String> placement = Map.of();

        Follower(String processor, int segments, Listener listener) {
            this.processor = processor;
            this.segments = segments;
            this.listener = listener;
        }
    }

    private final String selfId;
    private final Map<String, Follower> followers = new LinkedHashMap<>();
    private @Nullable ProcessorsKeeper keeper;
    /** The incarnation learned from the token store before the keeper was bound; raised into it at {@link #bind}. */
    private long incarnationBeforeBind;
    private long lastEpoch;

    /** @param selfId this member's id, which is also its name as a segment owner */
    ClusterSegments(String selfId) {
        this.selfId = selfId;
    }

    @Override
    public String owner() {
        return selfId;
    }

    @Override
    public Registration follow(String processor, int segments, Listener listener) {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(listener, "listener");
        if (segments < 1) {
            throw new IllegalArgumentException("segments must be 1 or more, but was " + segments);
        }
        Follower follower = new Follower(processor, segments, listener);
        ProcessorsKeeper bound;
        synchronized (this) {
            if (followers.containsKey(processor)) {
                throw new IllegalStateException("Processor '" + processor + "' is already followed on member "
                        + selfId + "; close its registration first");
            }
            followers.put(processor, follower);
            bound = keeper;
        }
        if (bound != null) {
            bound.changed(processors());
        }
        return () -> unfollow(follower);
    }

    /**
     * Raises this member's incarnation above the highest epoch stored for a processor it is about to follow; see the
     * class documentation.
     */
    @Override
    public void startAbove(String processor, long storedEpoch) {
        Objects.requireNonNull(processor, "processor");
        raiseIncarnation(SegmentEpoch.incarnationToOutrank(storedEpoch));
    }

    /**
     * Takes the incarnation of an epoch that refused this member's claim, never more; see the class documentation.
     */
    @Override
    public void claimRefused(StaleSegmentOwnerException refusal) {
        Objects.requireNonNull(refusal, "refusal");
        raiseIncarnation(SegmentEpoch.incarnationIn(refusal.storedEpoch()));
    }

    private void raiseIncarnation(long atLeast) {
        ProcessorsKeeper bound;
        synchronized (this) {
            bound = keeper;
            if (bound == null) {
                incarnationBeforeBind = Math.max(incarnationBeforeBind, atLeast);
                return;
            }
        }
        bound.raiseIncarnation(atLeast);
    }

    private void unfollow(Follower follower) {
        ProcessorsKeeper bound;
        synchronized (this) {
            if (follower.closed || followers.get(follower.processor) != follower) {
                return;
            }
            follower.closed = true;
            followers.remove(follower.processor);
            bound = keeper;
        }
        if (bound != null) {
            bound.changed(processors());
        }
    }

    /**
     * Starts advertising the processors followed so far, and those followed from now on.
     *
     * @param processorsKeeper the member's keeper of the processors' membership
     */
    void bind(ProcessorsKeeper processorsKeeper) {
        long learned;
        synchronized (this) {
            keeper = processorsKeeper;
            learned = incarnationBeforeBind;
        }
        processorsKeeper.raiseIncarnation(learned);
        processorsKeeper.changed(processors());
    }

    /** @return the processors followed, with their segment counts */
    synchronized Map<String, Integer> processors() {
        Map<String, Integer> counts = new TreeMap<>();
        followers.values().forEach(follower -> counts.put(follower.processor, follower.segments));
        return counts;
    }

    /**
     * Tells every follower its owned segments in a state, when they changed. Runs on the membership thread only.
     *
     * @param state a state of the processors' membership, no older than the last one published
     */
    void publish(ProcessorMembership.Snapshot state) {
        if (state.epoch() < lastEpoch) {
            return;
        }
        lastEpoch = state.epoch();
        List<Follower> current;
        synchronized (this) {
            current = List.copyOf(followers.values());
        }
        for (Follower follower : current) {
            publish(follower, state);
        }
    }

    private void publish(Follower follower, ProcessorMembership.Snapshot state) {
        for (ProcessorMembership.Runner runner : state.runners()) {
            Integer count = runner.processors().get(follower.processor);
            if (count != null && count != follower.segments && follower.disagreeing.add(runner.member().id())) {
                // Its segments split the log differently: the token store refuses one of the two counts.
                log.error("Member {} runs processor '{}' with {} segments, member {} with {}; each count is placed "
                        + "over the members that share it, and the token store refuses the count it does not hold. "
                        + "Give the processor one segment count on every node (changing it needs a reset).", selfId,
                        follower.processor, follower.segments, runner.member().id(), count);
            }
        }
        Map<Integer, String> placement = SegmentPlacement.place(follower.processor, follower.segments,
                state.runnersOf(follower.processor, follower.segments));
        Map<Integer, Long> owned = new HashMap<>();
        placement.forEach((segment, owner) -> {
            if (owner.equals(selfId)) {
                owned.put(segment, state.epoch());
            }
        });
        for (int segment = 0; segment < follower.segments; segment++) {
            String before = follower.placement.get(segment);
            String after = placement.get(segment);
            // Logged once in the cluster: by the member that takes the segment, or by the last owner when none does.
            if (!Objects.equals(before, after) && (selfId.equals(after) || after == null && selfId.equals(before))) {
                log.info("Processor '{}' segment {} moves from {} to {} (epoch {}, view {})", follower.processor,
                        segment, before == null ? "no member" : before, after == null ? "no member" : after,
                        state.epoch(), state.viewId());
            }
        }
        follower.placement = placement;
        if (owned.equals(follower.published) || follower.closed) {
            return;
        }
        follower.published = owned;
        try {
            follower.listener.ownedSegmentsChanged(new OwnedSegments(follower.processor, owned));
        } catch (RuntimeException e) {
            log.error("The segment listener of processor '{}' failed on member {}", follower.processor, selfId, e);
        }
    }

    /**
     * @param processor a processor followed on this member
     * @return the members that run each of its segments in the last state published, for status and tests
     */
    synchronized Map<Integer, String> placementOf(String processor) {
        Follower follower = followers.get(processor);
        return follower == null ? Map.of() : Map.copyOf(follower.placement);
    }
}
