package io.gyre.routing.jgroups;

import io.gyre.command.CachedAggregates;
import io.gyre.routing.HashRing;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.RingDiff;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.CoalescedTask;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.jgroups.internal.SharedMemberIds;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Duration;
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
 * the cache meanwhile; changes are evicted in the order they were applied. Views and departures also go to the
 * {@link ProcessorsKeeper}, in the same order, for the segments of tracking processors.
 */
final class RingKeeper {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    /**
     * The least time between two broadcasts of one kind from this member when they are asked for in a burst: at most
     * 50 a second, each at most 20 ms late. The first after a quiet spell goes at once.
     */
    static final Duration BROADCAST_INTERVAL = Duration.ofMillis(20);

    private final String selfId;
    private final Advertisement ownAd;
    private final Supplier<ClusterChannel> channel;
    private final @Nullable CachedAggregates caches;
    private final ScheduledExecutorService timer;
    private final ExecutorService work;
    private final CountDownLatch joined = new CountDownLatch(1);
    private final Object viewLock = new Object();
    private volatile @Nullable Membership membership;
    /** Eviction's own CPU time, which a loaded machine does not inflate as it does the elapsed time. */
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private volatile JGroupsCommandBus.@Nullable Eviction lastEviction;
    private volatile boolean advertising;
    /**
     * Broadcasts of this member's advertisements, and requests for the missing ones, each shared by the requests that
     * come while one is pending: every command refused during a ring change asks for one, and without sharing a
     * burst of refusals became a burst of broadcasts to every member.
     */
    private final CoalescedTask advertisements;
    private final CoalescedTask reconciliations;
    private final ProcessorsKeeper processors;
    private final Duration suspectAfter;

    /**
     * @param selfId  this member's id
     * @param ownAd   this member's advertisement
     * @param channel the channel, once created
     * @param caches  the node's cached aggregates, or null when there are none to keep right
     * @param timer   sends advertisements and requests for them
     * @param work    the membership thread, for eviction and segment listeners
     * @param segments this member's segment ownership
     * @param clock    the node's clock, whose time when the member joins ranks its segment epochs
     * @param suspectAfter how long a silent member may stay silent before it is suspected, which bounds how long a
     *                 restarted member's older incarnation stays in the view; used only when the channel's stack
     *                 has no heartbeat failure detection to read this from
     */
    RingKeeper(String selfId, Advertisement ownAd, Supplier<ClusterChannel> channel, @Nullable CachedAggregates caches,
               ScheduledExecutorService timer, ExecutorService work, ClusterSegments segments, Clock clock,
               Duration suspectAfter) {
        this.selfId = selfId;
        this.ownAd = ownAd;
        this.channel = channel;
        this.caches = caches;
        this.timer = timer;
        this.work = work;
        this.suspectAfter = suspectAfter;
        this.advertisements = new CoalescedTask("advertise member " + selfId, this::advertiseIfAdvertising, timer,
                BROADCAST_INTERVAL);
        this.reconciliations = new CoalescedTask("reconcile member " + selfId, this::reconcile, timer,
                BROADCAST_INTERVAL);
        this.processors = new ProcessorsKeeper(selfId, ownAd.weight(), clock, channel, segments, timer, work,
                this::advertiseLater);
    }

    /** @return the keeper of the processors' membership */
    ProcessorsKeeper processors() {
        return processors;
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
        try {
            timer.scheduleWithFixedDelay(() -> {
                Membership known = membership;
                if (known != null) {
                    known.recheckSharedIds();
                }
            }, 1, 1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("Not watching for shared member ids after the bus stopped: {}", e.toString());
        }
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
                membership = new Membership(channel.get().address(), ownAd, view,
                        new SharedMemberIds(sharedIdsGrace(channel.get()), System::nanoTime));
                processors.onView(view);
                joined.countDown();
                return null;
            }
            change = current.onView(view);
            processors.onView(view);
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
     * How long a member id may be advertised at two addresses and still be taken for a restart: long enough for the
     * older incarnation to be suspected, the suspicion verified, and the new view installed. The channel's own
     * failure detection decides that, so it is read from the stack (a user's stack file may set its own); the
     * builder's {@code suspectAfter} is the fallback for a stack without heartbeats. With the default stack this is
     * twice {@code suspectAfter} plus two seconds.
     */
    private Duration sharedIdsGrace(ClusterChannel channel) {
        Duration heartbeat = channel.heartbeatTimeout();
        Duration suspect = heartbeat != null ? heartbeat : suspectAfter;
        return suspect.multipliedBy(2).plus(channel.suspicionCheck()).plusMillis(1500);
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
        processors.onLeaving(from);
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
        long cpuStarted = THREADS.getCurrentThreadCpuTime();
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
        long cpuMicros = cpuStarted < 0 ? -1 : (THREADS.getCurrentThreadCpuTime() - cpuStarted) / 1000;
        lastEviction = new JGroupsCommandBus.Eviction(scanned, evicted, micros, cpuMicros);
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
        if (advertising) {
            reconciliations.request();
        }
    }

    private void reconcile() {
        Membership known = membership;
        if (!advertising || known == null) {
            return;
        }
        advertise();
        for (Address missing : known.notAdvertised()) {
            try {
                channel.get().send(missing, WireFormat.encode(new WireMessage.AdvertisementRequest(selfId)));
            } catch (Exception e) {
                log.debug("Asking {} to advertise itself failed: {}", missing, e.toString());
            }
        }
    }

    /** Advertises this member soon, on the timer thread, unless it is leaving. */
    void advertiseLater() {
        if (advertising) {
            advertisements.request();
        }
    }

    private void advertiseIfAdvertising() {
        if (advertising) {
            advertise();
        }
    }

    private void advertise() {
        try {
            channel.get().broadcast(WireFormat.encode(ownAd));
            ProcessorsAdvertisement running = processors.ownAdvertisement();
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
