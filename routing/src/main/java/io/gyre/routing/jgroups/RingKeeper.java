package io.gyre.routing.jgroups;

import io.gyre.command.CachedAggregates;
import io.gyre.routing.HashRing;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.RingDiff;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.jgroups.internal.ProcessorMembership;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.MergeView;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this member's ring: applies views, advertisements and departures to the {@link Membership} in order (the
 * first view included, under one lock), advertises this member, asks members it has no advertisement from to
 * send one, and drops the cached aggregates whose owner changed to or from this member. Eviction runs on a
 * membership thread of its own, never on a JGroups thread (which also carries heartbeats): one hash and one bit
 * per cached id ({@link RingDiff#movedToOrFrom(String)}), over a copy of the cache's ids, so commands keep using
 * the cache meanwhile; changes are evicted in the order they were applied.
 *
 * <p>It keeps the processors' membership ({@link ProcessorMembership}) the same way, and hands each of its states to
 * {@link ClusterSegments} on the membership thread, in order. A state in which some member of the view has not
 * advertised its processors yet is held back (that member may be about to take segments, and publishing without
 * it would move segments twice) for up to {@link #PROCESSORS_GRACE_MILLIS} ms, after which it is published anyway:
 * a member of an older Gyre version never advertises processors.
 */
final class RingKeeper {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);
    /** How long a processors state waits for the advertisements of every member of its view. */
    static final long PROCESSORS_GRACE_MILLIS = 2000;

    private final String selfId;
    private final Advertisement ownAd;
    private final Supplier<ClusterChannel> channel;
    private final @Nullable CachedAggregates caches;
    private final ScheduledExecutorService timer;
    private final ExecutorService work;
    private final CountDownLatch joined = new CountDownLatch(1);
    private final Object viewLock = new Object();
    private volatile @Nullable Membership membership;
    private volatile JGroupsCommandBus.@Nullable Eviction lastEviction;
    private volatile boolean advertising;
    private final ClusterSegments segments;
    private final int weight;
    private final java.time.Clock clock;
    private volatile @Nullable ProcessorMembership processors;
    private final AtomicBoolean graceScheduled = new AtomicBoolean();

    /**
     * @param selfId  this member's id
     * @param ownAd   this member's advertisement
     * @param channel the channel, once created
     * @param caches  the node's cached aggregates, or null when there are none to keep right
     * @param timer   sends advertisements and requests for them
     * @param work    the membership thread, for eviction and segment listeners
     * @param segments    this member's segment ownership
     * @param clock       the node's clock, whose time when the member joins ranks its segment epochs
     */
    RingKeeper(String selfId, Advertisement ownAd, Supplier<ClusterChannel> channel, @Nullable CachedAggregates caches,
               ScheduledExecutorService timer, ExecutorService work, ClusterSegments segments, java.time.Clock clock) {
        this.selfId = selfId;
        this.segments = segments;
        this.weight = ownAd.weight();
        this.clock = clock;
        this.ownAd = ownAd;
        this.channel = channel;
        this.caches = caches;
        this.timer = timer;
        this.work = work;
    }

    /** @return the membership, or null before the first view */
    @Nullable Membership membership() {
        return membership;
    }

    /**
     * Waits for the first view.
     *
     * @param timeout how long
     * @return true when it came
     * @throws InterruptedException when interrupted
     */
    boolean awaitFirstView(long timeout, TimeUnit unit) throws InterruptedException {
        return joined.await(timeout, unit);
    }

    /** From now on, advertise on every view change and when asked; stops with {@link #stopAdvertising()}. */
    void startAdvertising() {
        advertising = true;
        advertise();
    }

    /** Stops advertising: the member is leaving. */
    void stopAdvertising() {
        advertising = false;
    }

    /** @return what the last ring change cost the cache, or null before the first one */
    JGroupsCommandBus.@Nullable Eviction lastEviction() {
        return lastEviction;
    }

    /**
     * Applies a view, in order: the first creates the membership; an older one than the current is ignored.
     *
     * @param view the view
     * @return what changed; null for the first view
     */
    Membership.@Nullable Change onView(View view) {
        Membership.Change change;
        synchronized (viewLock) {
            Membership current = membership;
            if (current == null) {
                membership = new Membership(channel.get().address(), ownAd, view);
                ProcessorMembership known = processorMembership();
                synchronized (known) {
                    publishLater(known.onView(view));
                }
                joined.countDown();
                return null;
            }
            change = current.onView(view);
            ProcessorMembership known = processorMembership();
            synchronized (known) {
                publishLater(known.onView(view));
            }
        }
        if (!change.changed()) {
            return change;
        }
        if (view instanceof MergeView && caches != null) {
            // Both sides of a partition may have written any aggregate: nothing cached here can be trusted.
            caches.evictAll();
        }
        applied(change);
        advertiseLater();
        log.info("Member {}: view {} -> ring version {} with members {}", selfId, view.getViewId(),
                change.after().version(), change.after().addresses().keySet());
        return change;
    }

    /**
     * @param from the member that advertised
     * @param ad   its advertisement
     * @return true when it was believed (or was already known), false when refused
     */
    boolean onAdvertisement(Address from, Advertisement ad) {
        Membership.Change change = current().onAdvertisement(from, ad);
        applied(change);
        return change.changed() || ad.equals(current().advertisementOf(from));
    }

    /** @param from a member of the ring that announced its graceful departure, this one included */
    void onLeaving(Address from) {
        applied(current().onLeaving(from));
        ProcessorMembership known = processorMembership();
        synchronized (known) {
            publishLater(known.onLeaving(from));
        }
    }

    /**
     * This member is leaving: it runs no segment from now on. Called before it announces its departure, so that
     * its segments stop here while the others are about to take them.
     */
    void leaveProcessors() {
        ProcessorMembership known = processorMembership();
        synchronized (known) {
            publishLater(known.onLeaving(channel.get().address()));
        }
    }

    /**
     * @param from   a member of the ring
     * @param member its ring id and weight
     * @param ad     the processors it runs
     * @return why it was not believed, or null
     */
    @Nullable String onProcessors(Address from, io.gyre.routing.Member member, ProcessorsAdvertisement ad) {
        ProcessorMembership known = processorMembership();
        ProcessorMembership.Applied applied;
        synchronized (known) {
            applied = known.onAdvertisement(from, member.weight(), ad);
            publishLater(applied.snapshot());
        }
        if (applied.raisedIncarnation()) {
            // Pass the newer incarnation on, so that it outlives the member that brought it.
            advertiseLater();
        }
        return applied.problem();
    }

    /**
     * This member's processors changed: advertises them and publishes its new share.
     *
     * @param now the processors this member runs, with their segment counts
     */
    void processorsChanged(java.util.Map<String, Integer> now) {
        ProcessorMembership known = processorMembership();
        synchronized (known) {
            publishLater(known.setOwn(now).snapshot());
        }
        advertiseLater();
    }

    /** @return the processors' membership, made on first use with this member's address */
    private ProcessorMembership processorMembership() {
        ProcessorMembership known = processors;
        if (known == null) {
            synchronized (this) {
                known = processors;
                if (known == null) {
                    known = new ProcessorMembership(channel.get().address(), selfId, weight, clock);
                    processors = known;
                }
            }
        }
        return known;
    }

    /** Called under the processors' membership lock, so states reach the membership thread in the order made. */
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
                ProcessorMembership.Snapshot now = processorMembership().current();
                if (now != null) {
                    if (!now.complete() && !segments.processors().isEmpty()) {
                        log.warn("Member {}: not every member of view {} advertised its processors within {} ms "
                                + "(a member of an older Gyre version?); placing segments without them", selfId,
                                now.viewId(), PROCESSORS_GRACE_MILLIS);
                    }
                    segments.publish(now);
                }
            }), PROCESSORS_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            graceScheduled.set(false);
        }
    }

    /**
     * Drops the cached aggregates whose ownership moved away from or to this member, per hosted aggregate type, on
     * the membership thread, in the order changes were applied.
     */
    private void applied(Membership.Change change) {
        if (!change.changed() || caches == null) {
            return;
        }
        try {
            work.execute(() -> evictMoved(change.before(), change.after()));
        } catch (RejectedExecutionException e) {
            log.debug("Not evicting after the bus stopped: {}", e.toString());
        }
    }

    private void evictMoved(Membership.Snapshot before, Membership.Snapshot after) {
        CachedAggregates cached = Objects.requireNonNull(caches);
        long started = System.nanoTime();
        int evicted = 0;
        int scanned = 0;
        for (Map.Entry<String, Set<String>> hosted : ownAd.hosted().entrySet()) {
            String aggregateType = hosted.getKey();
            List<String> ids = cached.ids(aggregateType);
            scanned += ids.size();
            if (ids.isEmpty()) {
                continue;
            }
            RingDiff diff = diff(before.ring(), after.ring(), aggregateType);
            Predicate<CharSequence> movedHere = diff == null ? id -> true : diff.movedToOrFrom(selfId);
            List<String> moved = new ArrayList<>();
            for (String id : ids) {
                if (movedHere.test(id)) {
                    moved.add(id);
                }
            }
            cached.evict(aggregateType, moved);
            evicted += moved.size();
        }
        long micros = (System.nanoTime() - started) / 1000;
        lastEviction = new JGroupsCommandBus.Eviction(scanned, evicted, micros);
        if (evicted > 0 && log.isDebugEnabled()) {
            log.debug("Member {} dropped {} of {} cached aggregates that moved, in {} µs", selfId, evicted, scanned,
                    micros);
        }
    }

    /** @return the keys that moved for an aggregate type, or null when every key may have (a ring came or went) */
    private static @Nullable RingDiff diff(@Nullable HashRing before, @Nullable HashRing after, String aggregateType) {
        if (before == null || after == null) {
            return null;
        }
        try {
            return RingDiff.between(before, after, aggregateType);
        } catch (NoEligibleMemberException e) {
            return null;
        }
    }

    /**
     * Asks the members that have not advertised themselves to do so, and advertises this member again: called when
     * the view holds members without an advertisement, or a peer's ring turned out to differ from this one's.
     */
    void reconcileLater() {
        if (!advertising) {
            return;
        }
        try {
            timer.execute(() -> {
                advertise();
                for (Address missing : current().notAdvertised()) {
                    try {
                        channel.get().send(missing, WireFormat.encode(new WireMessage.AdvertisementRequest(selfId)));
                    } catch (Exception e) {
                        log.debug("Asking {} to advertise itself failed: {}", missing, e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("Not reconciling after the bus stopped: {}", e.toString());
        }
    }

    /** Advertises this member soon, on the timer thread, unless it is leaving. */
    void advertiseLater() {
        if (!advertising) {
            return;
        }
        try {
            timer.execute(this::advertise);
        } catch (RejectedExecutionException e) {
            log.debug("Not advertising: {}", e.toString());
        }
    }

    private void advertise() {
        try {
            channel.get().broadcast(WireFormat.encode(ownAd));
            ProcessorsAdvertisement running = processorMembership().ownAdvertisement();
            if (running != null) {
                // A frame of its own: a member of an older version drops this frame only, not the advertisement.
                channel.get().broadcast(WireFormat.encode(running));
            }
        } catch (Exception e) {
            log.warn("Member {} could not advertise itself: {}", selfId, e.toString());
        }
    }

    private Membership current() {
        return Objects.requireNonNull(membership, "no view yet");
    }
}
