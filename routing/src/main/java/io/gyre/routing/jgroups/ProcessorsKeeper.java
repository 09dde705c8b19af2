package io.gyre.routing.jgroups;

import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.ProcessorMembership;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the processors' membership ({@link ProcessorMembership}) for the {@link RingKeeper}: applies views,
 * processors advertisements and departures to it, each under its lock, and hands each state it leads to to
 * {@link ClusterSegments} on the membership thread, in the order the states were made, so listeners see them in
 * order and never on a JGroups thread.
 *
 * <p>A state in which some member of the view has not advertised its processors yet is held back, since that member
 * may be about to take segments and publishing without it would move segments twice; after
 * {@link #GRACE_MILLIS} ms it is published anyway, because a member of an older Gyre version never advertises
 * processors.
 */
final class ProcessorsKeeper {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);
    /** How long a state waits for the processors advertisements of every member of its view. */
    static final long GRACE_MILLIS = 2000;

    private final String selfId;
    private final int weight;
    private final Clock clock;
    private final Supplier<ClusterChannel> channel;
    private final ClusterSegments segments;
    private final ScheduledExecutorService timer;
    private final ExecutorService work;
    private final Runnable advertiseLater;
    private final AtomicBoolean graceScheduled = new AtomicBoolean();
    private volatile @Nullable ProcessorMembership membership;

    /**
     * @param selfId         this member's id
     * @param weight         its weight
     * @param clock          the node's clock, whose time when the member joins ranks its segment epochs
     * @param channel        the channel, once created
     * @param segments       this member's segment ownership, told every state
     * @param timer          for the grace period
     * @param work           the membership thread
     * @param advertiseLater sends this member's advertisements soon
     */
    ProcessorsKeeper(String selfId, int weight, Clock clock, Supplier<ClusterChannel> channel,
                     ClusterSegments segments, ScheduledExecutorService timer, ExecutorService work,
                     Runnable advertiseLater) {
        this.selfId = selfId;
        this.weight = weight;
        this.clock = clock;
        this.channel = channel;
        this.segments = segments;
        this.timer = timer;
        this.work = work;
        this.advertiseLater = advertiseLater;
    }

    /** @param view a view, applied in order by the ring keeper */
    void onView(View view) {
        ProcessorMembership known = membership();
        synchronized (known) {
            publishLater(known.onView(view));
        }
    }

    /** @param from a member of the view that announced its departure, this one included */
    void onLeaving(Address from) {
        ProcessorMembership known = membership();
        synchronized (known) {
            publishLater(known.onLeaving(from));
        }
    }

    /**
     * This member is leaving: it runs no segment from now on. Called before it announces its departure, so that
     * its segments stop here while the others are about to take them.
     */
    void leave() {
        onLeaving(channel.get().address());
    }

    /**
     * @param from   a member of the ring
     * @param member its ring id and weight
     * @param ad     the processors it runs
     * @return why it was not believed, or null
     */
    @Nullable String onAdvertisement(Address from, Member member, ProcessorsAdvertisement ad) {
        ProcessorMembership known = membership();
        ProcessorMembership.Applied applied;
        synchronized (known) {
            applied = known.onAdvertisement(from, member.weight(), ad);
            publishLater(applied.snapshot());
        }
        if (applied.raisedIncarnation()) {
            // Pass the newer incarnation on, so that it outlives the member that brought it.
            advertiseLater.run();
        }
        return applied.problem();
    }

    /**
     * Raises this member's incarnation to a value learned from the token store ({@link ClusterSegments}), publishes
     * the state it leads to, and passes it on to the other members, as for a newer incarnation heard from one of them.
     *
     * @param atLeast the lowest incarnation this member may have from now on
     */
    void raiseIncarnation(long atLeast) {
        ProcessorMembership known = membership();
        ProcessorMembership.Applied applied;
        synchronized (known) {
            applied = known.raiseIncarnation(atLeast);
            publishLater(applied.snapshot());
        }
        if (applied.raisedIncarnation()) {
            log.info("Member {} raised its segment incarnation to {} from the token store", selfId, atLeast);
            advertiseLater.run();
        }
    }

    /**
     * This member's processors changed: publishes its new share and advertises them.
     *
     * @param now the processors this member runs, with their segment counts
     */
    void changed(Map<String, Integer> now) {
        ProcessorMembership known = membership();
        synchronized (known) {
            publishLater(known.setOwn(now).snapshot());
        }
        advertiseLater.run();
    }

    /** @return this member's processors advertisement, or null before it was bound to its segment ownership */
    @Nullable ProcessorsAdvertisement ownAdvertisement() {
        return membership().ownAdvertisement();
    }

    /** @return the processors' membership, made on first use, once the channel has its address */
    private ProcessorMembership membership() {
        ProcessorMembership known = membership;
        if (known == null) {
            synchronized (this) {
                known = membership;
                if (known == null) {
                    known = new ProcessorMembership(channel.get().address(), selfId, weight, clock);
                    membership = known;
                }
            }
        }
        return known;
    }

    /** Called under the membership's lock, so that states reach the membership thread in the order they were made. */
    private void publishLater(ProcessorMembership.@Nullable Snapshot state) {
        if (state == null) {
            return;
        }
        try {
            work.execute(() -> {
                if (state.complete()) {
                    segments.publish(state);
                } else {
                    publishAfterGrace();
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("Not publishing segments after the bus stopped: {}", e.toString());
        }
    }

    private void publishAfterGrace() {
        if (!graceScheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            timer.schedule(() -> work.execute(() -> {
                graceScheduled.set(false);
                ProcessorMembership.Snapshot now = membership().current();
                if (now != null) {
                    if (!now.complete() && !segments.processors().isEmpty()) {
                        log.warn("Member {}: not every member of view {} advertised its processors within {} ms "
                                + "(a member still starting, or one of an older Gyre version); placing segments "
                                + "without them until they do", selfId, now.viewId(), GRACE_MILLIS);
                    }
                    segments.publish(now);
                }
            }), GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            graceScheduled.set(false);
        }
    }
}
