package io.gyre.routing.jgroups;

import io.gyre.processing.OwnedSegments;
import io.gyre.processing.SegmentOwnership;
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
 * that run each processor, with the epochs of {@link io.gyre.processing.SegmentEpoch}. The
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
        synchronized (this) {
            keeper = processorsKeeper;
        }
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
