package io.gyre.routing.jgroups.internal;

import io.gyre.processing.ProcessorDefinition;
import io.gyre.processing.SegmentEpoch;
import io.gyre.processing.TrackingProcessor;
import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which members run which tracking processors, and the epoch of the placement they make: the members of the
 * current JGroups view that advertised their processors ({@link ProcessorsAdvertisement}) and have not announced
 * their departure. Like {@link Membership}, every change is applied under this object's lock, views only forward,
 * and each change returns the immutable {@link Snapshot} it led to, which the caller hands to the membership
 * thread in the same order. Internal: not part of Gyre's API.
 */
public final class ProcessorMembership {

    private static final Logger log = LoggerFactory.getLogger(ProcessorMembership.class);
    /** How far ahead of this member's clock an incarnation may be before a member's clock is reported wrong. */
    private static final long MAX_CLOCK_LEAD_SECONDS = 3600;

    /**
     * A member that runs processors.
     *
     * @param member     its id and weight
     * @param processors each processor it runs, with its segment count
     */
    public record Runner(Member member, Map<String, Integer> processors) {
    }

    /**
     * One state of the processors' membership.
     *
     * @param viewId  the JGroups view id
     * @param epoch   the epoch of every ownership in this state ({@link SegmentEpoch})
     * @param runners  the members that run processors, in view order, without departing ones
     * @param complete true when every member of the view has advertised its processors (or is leaving); until then
     *                 a member still joining may be missing from the placement
     */
    public record Snapshot(long viewId, long epoch, List<Runner> runners, boolean complete) {

        /**
         * @param processor a processor
         * @param segments  its segment count on this member
         * @return the members that run it with that count
         */
        public List<Member> runnersOf(String processor, int segments) {
            List<Member> members = new ArrayList<>();
            for (Runner runner : runners) {
                Integer count = runner.processors().get(processor);
                if (count != null && count == segments) {
                    members.add(runner.member());
                }
            }
            return members;
        }
    }

    /**
     * What applying an advertisement did.
     *
     * @param snapshot           the state after it, or null when nothing changed
     * @param problem            why it was not believed, or null
     * @param raisedIncarnation  true when it carried a newer incarnation, which this member must pass on
     */
    public record Applied(@Nullable Snapshot snapshot, @Nullable String problem, boolean raisedIncarnation) {
    }

    private final Address self;
    private final String selfId;
    private final int selfWeight;
    private final Clock clock;
    private final Map<Address, ProcessorsAdvertisement> ads = new HashMap<>();
    private final Map<Address, Integer> weights = new HashMap<>();
    private final Set<Address> leaving = new HashSet<>();
    private List<Address> viewMembers = List.of();
    private long viewId = -1;
    private long incarnation;
    private long ownVersion;
    private Map<String, Integer> ownProcessors = Map.of();
    private boolean saturationLogged;
    /** The members already reported for an incarnation far ahead of this member's clock. */
    private final Set<String> reportedAhead = new HashSet<>();

    /**
     * @param self           this member's address
     * @param selfId         its member id
     * @param selfWeight its weight
     * @param clock      the node's clock: its time now is this member's start, its incarnation
     */
    public ProcessorMembership(Address self, String selfId, int selfWeight, Clock clock) {
        this.self = self;
        this.selfId = selfId;
        this.selfWeight = selfWeight;
        this.clock = clock;
        this.incarnation = SegmentEpoch.incarnationOf(clock.instant());
    }

    /**
     * @param view a view
     * @return the state after it, or null when it is not newer than the current one
     */
    public synchronized @Nullable Snapshot onView(View view) {
        long id = view.getViewId().getId();
        if (id <= viewId) {
            return null;
        }
        viewId = id;
        viewMembers = List.copyOf(view.getMembers());
        ads.keySet().retainAll(viewMembers);
        weights.keySet().retainAll(viewMembers);
        leaving.retainAll(viewMembers);
        return build();
    }

    /**
     * @param from   a member of the ring
     * @param weight its weight on the ring
     * @param ad     its processors
     * @return what it changed, and why it was not believed
     */
    public synchronized Applied onAdvertisement(Address from, int weight, ProcessorsAdvertisement ad) {
        String problem = problemWith(ad);
        if (problem != null) {
            return new Applied(null, problem, false);
        }
        if (from.equals(self) || !viewMembers.contains(from)) {
            return new Applied(null, null, false);
        }
        ProcessorsAdvertisement previous = ads.get(from);
        if (previous != null && previous.version() > ad.version()) {
            return new Applied(null, "version " + ad.version() + " is older than the version " + previous.version()
                    + " already applied", false);
        }
        boolean raised = ad.incarnation() > incarnation;
        if (raised) {
            warnIfFarAhead(ad);
        }
        incarnation = Math.max(incarnation, ad.incarnation());
        ads.put(from, ad);
        weights.put(from, weight);
        return new Applied(ad.equals(previous) && !raised ? null : build(), null, raised);
    }

    /**
     * An incarnation far ahead of this member's clock is believed all the same, and only reported: refusing it once
     * did not keep it out of the token store (its member claims segments with it whatever the others think), it only
     * made the members place segments without that member, disagree with it, and, once it died, stay fenced by its
     * rows for as long as its clock was ahead. Believed, it becomes the cluster's incarnation, every member's epochs
     * outrank that member's rows, and the cluster's epochs keep moving forward after it is gone.
     */
    private void warnIfFarAhead(ProcessorsAdvertisement ad) {
        if (ad.incarnation() > SegmentEpoch.incarnationOf(clock.instant()) + MAX_CLOCK_LEAD_SECONDS
                && reportedAhead.add(ad.memberId())) {
            log.warn("Member {} advertises incarnation {} (seconds since {}), more than an hour ahead of the clock of "
                    + "member {}: a clock in the cluster runs ahead (that member's, or the clock of a member whose "
                    + "epochs it found in the token store). Segment epochs follow it, so processing goes on; check "
                    + "the members' clocks", ad.memberId(), ad.incarnation(), SegmentEpoch.ORIGIN, selfId);
        }
    }

    /** @return why an advertisement cannot be believed, or null when it is well formed */
    private @Nullable String problemWith(ProcessorsAdvertisement ad) {
        if (ad.version() < 1) {
            return "version " + ad.version() + " is not positive";
        }
        if (ad.incarnation() < 0) {
            return "its incarnation " + ad.incarnation() + " is negative";
        }
        for (Map.Entry<String, Integer> processor : ad.processors().entrySet()) {
            try {
                ProcessorDefinition.checkName(processor.getKey());
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
            if (processor.getValue() < 1 || processor.getValue() > TrackingProcessor.MAX_SEGMENTS) {
                return "processor '" + processor.getKey() + "' has " + processor.getValue() + " segments; 1 to "
                        + TrackingProcessor.MAX_SEGMENTS + " are allowed";
            }
        }
        return null;
    }

    /**
     * Raises this member's incarnation to at least a value learned from the token store: one above the highest
     * epoch stored for a processor when it starts following it, or the incarnation of an epoch that refused its
     * claim. Like a newer incarnation heard in an advertisement, the caller passes it on to the other members.
     *
     * @param atLeast the lowest incarnation this member may have from now on
     * @return whether it was raised, and the state after it (null before the first view or when not raised)
     */
    public synchronized Applied raiseIncarnation(long atLeast) {
        if (atLeast <= incarnation) {
            return new Applied(null, null, false);
        }
        incarnation = atLeast;
        return new Applied(viewId < 0 ? null : build(), null, true);
    }

    /** @return this member's incarnation: the newest member start it heard of, or learned from the token store */
    public synchronized long incarnation() {
        return incarnation;
    }

    /**
     * @param from a member of the view that announced its departure, possibly this one
     * @return the state after it, or null when nothing changed
     */
    public synchronized @Nullable Snapshot onLeaving(Address from) {
        if (!viewMembers.contains(from) || !leaving.add(from)) {
            return null;
        }
        return build();
    }

    /**
     * @param processors the processors this member runs now, with their segment counts
     * @return the advertisement to send, and the state after it (null before the first view)
     */
    public synchronized OwnChange setOwn(Map<String, Integer> processors) {
        ownProcessors = Map.copyOf(processors);
        ownVersion++;
        return new OwnChange(ownAdvertisement(), viewId < 0 ? null : build());
    }

    /**
     * A change of this member's processors.
     *
     * @param advertisement what to tell the other members
     * @param snapshot      the state after it, or null before the first view
     */
    public record OwnChange(ProcessorsAdvertisement advertisement, @Nullable Snapshot snapshot) {
    }

    /** @return this member's processors advertisement, or null while it has never run a processor */
    public synchronized @Nullable ProcessorsAdvertisement ownAdvertisement() {
        return ownVersion == 0 ? null
                : new ProcessorsAdvertisement(selfId, incarnation, ownVersion, ownProcessors);
    }

    /** @return the current state, or null before the first view */
    public synchronized @Nullable Snapshot current() {
        return viewId < 0 ? null : build();
    }

    private Snapshot build() {
        List<Runner> runners = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        long changes = leaving.size();
        boolean complete = true;
        for (Address address : viewMembers) {
            boolean isSelf = address.equals(self);
            ProcessorsAdvertisement ad = isSelf ? ownAdvertisement() : ads.get(address);
            if (ad == null) {
                complete &= isSelf || leaving.contains(address);
                continue;
            }
            changes += ad.version();
            if (leaving.contains(address) || ad.processors().isEmpty()) {
                continue;
            }
            if (!ids.add(ad.memberId())) {
                log.error("Two cluster members advertise processors under the member id '{}'; only the first in the "
                        + "view runs segments. Give every node its own nodeName.", ad.memberId());
                continue;
            }
            int weight = isSelf ? selfWeight : weights.get(address);
            runners.add(new Runner(new Member(ad.memberId(), weight, Set.of()), ad.processors()));
        }
        if (SegmentEpoch.saturates(incarnation, viewId, changes) && !saturationLogged) {
            saturationLogged = true;
            log.error("Segment epochs saturate (incarnation {}, view {}, {} processor changes): ownership changes in "
                    + "this view may be fenced until a member starts", incarnation, viewId, changes);
        }
        return new Snapshot(viewId, SegmentEpoch.of(incarnation, viewId, changes), List.copyOf(runners), complete);
    }
}
