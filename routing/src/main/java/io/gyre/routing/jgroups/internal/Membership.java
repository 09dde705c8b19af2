package io.gyre.routing.jgroups.internal;

import io.gyre.eventstore.StreamId;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is in the cluster and what each member hosts, turned into the ring every member computes alike: the members
 * of the current JGroups view that have advertised themselves and have not announced their departure, each with
 * the aggregate types it hosts (the order does not matter to the ring). Each aggregate type is owned through the
 * ring of the members that host it.
 *
 * <p>Every change (view, advertisement, departure) is applied under this object's lock, one after another; a view
 * older than the current one is ignored, so views never apply out of order however JGroups delivers them. Readers
 * take the current {@link Snapshot} without locking.
 *
 * <p>A member id advertised at two addresses keeps its place on the ring at the address that joined first. That is
 * what a restart looks like while the older incarnation is still in the view, and what two nodes given one
 * {@code nodeName} look like; {@link SharedMemberIds} tells the two apart for the log. Internal: not part of Gyre's
 * API.
 */
public final class Membership {

    private static final Logger log = LoggerFactory.getLogger(Membership.class);
    /** The longest command type name an advertisement may carry. */
    private static final int MAX_COMMAND_TYPE_NAME = 1000;
    /** A ring version holds the view id above this many bits, and the rebuilds within the view below them. */
    private static final int REVISION_BITS = 20;

    /**
     * One state of the ring.
     *
     * @param ring               the ring, or null when no member can take commands
     * @param addresses          each member id's JGroups address
     * @param version            monotonic: the view id in the high bits, the rebuilds within the view in the low 20
     * @param aggregateOfCommand for each command type some member handles, the aggregate type it belongs to
     * @param commandsOfMember   for each member on the ring, the command types it advertises handling
     */
    public record Snapshot(@Nullable HashRing ring, Map<String, Address> addresses, long version,
                           Map<String, String> aggregateOfCommand, Map<String, Set<String>> commandsOfMember) {

        /**
         * A member's advertisement never changes (a restart comes back at another address), so a member that does
         * not advertise a command type can never have run a command of that type.
         *
         * @param memberId    a member id
         * @param commandType a command type name
         * @return true when the member, on this ring, advertises handling the command type
         */
        public boolean handles(String memberId, String commandType) {
            return commandsOfMember.getOrDefault(memberId, Set.of()).contains(commandType);
        }

        /**
         * @param commandType a command type name
         * @return the aggregate type some member handles it for, or null when no member does
         */
        public @Nullable String aggregateOf(String commandType) {
            return aggregateOfCommand.get(commandType);
        }
    }

    /**
     * What a membership event changed.
     *
     * @param before   the ring before
     * @param after    the ring after
     * @param departed members that left the view
     */
    public record Change(Snapshot before, Snapshot after, Set<Address> departed) {

        /** @return true when the ring or the members' addresses changed */
        public boolean changed() {
            return before != after;
        }
    }

    private final Address self;
    private final Map<Address, Advertisement> advertisements = new HashMap<>();
    private final Set<Address> leaving = new HashSet<>();
    private final SharedMemberIds sharedIds;
    private List<Address> viewMembers;
    private ViewId viewId;
    private long revision;
    private volatile Snapshot current;

    /**
     * A membership that calls a member id at two addresses a duplicate after 10 s.
     *
     * @param self  this member's address
     * @param ownAd this member's advertisement
     * @param view  the view this member joined with
     */
    public Membership(Address self, Advertisement ownAd, View view) {
        this(self, ownAd, view, new SharedMemberIds(Duration.ofSeconds(10), System::nanoTime));
    }

    /**
     * @param self      this member's address
     * @param ownAd     this member's advertisement
     * @param view      the view this member joined with
     * @param sharedIds tells restarts from duplicate member ids; this membership's own from now on
     */
    public Membership(Address self, Advertisement ownAd, View view, SharedMemberIds sharedIds) {
        this.self = self;
        this.sharedIds = sharedIds;
        this.advertisements.put(self, ownAd);
        this.viewMembers = List.copyOf(view.getMembers());
        this.viewId = view.getViewId();
        this.current = build();
    }

    /** @return the current ring state */
    public Snapshot current() {
        return current;
    }

    /**
     * @param view a new view
     * @return what changed; nothing when the view is not newer than the current one
     */
    public synchronized Change onView(View view) {
        Snapshot before = current;
        if (view.getViewId().compareTo(viewId) <= 0) {
            log.debug("Ignoring view {}: not newer than the current {}", view.getViewId(), viewId);
            return new Change(before, before, Set.of());
        }
        Set<Address> departed = new HashSet<>(viewMembers);
        departed.removeAll(view.getMembers());
        viewMembers = List.copyOf(view.getMembers());
        viewId = view.getViewId();
        revision = 0;
        advertisements.keySet().removeIf(address -> !address.equals(self) && departed.contains(address));
        leaving.removeAll(departed);
        current = build();
        return new Change(before, current, departed);
    }

    /**
     * @param from the sender
     * @param ad   its advertisement
     * @return what changed
     */
    public synchronized Change onAdvertisement(Address from, Advertisement ad) {
        Snapshot before = current;
        String problem = problemWith(ad);
        if (problem != null) {
            log.error("Ignoring the advertisement of {}: {}", from, problem);
            return new Change(before, before, Set.of());
        }
        Advertisement previous = advertisements.put(from, ad);
        if (ad.equals(previous)) {
            return new Change(before, before, Set.of());
        }
        revision++;
        current = build();
        return new Change(before, current, Set.of());
    }

    /** @return why an advertisement cannot be believed, or null when it is well formed */
    private static @Nullable String problemWith(Advertisement ad) {
        try {
            new Member(ad.memberId(), ad.weight(), ad.hosted().keySet());
            for (Map.Entry<String, Set<String>> hosted : ad.hosted().entrySet()) {
                StreamId.checkTypeName(hosted.getKey());
                for (String command : hosted.getValue()) {
                    if (command.isBlank() || command.length() > MAX_COMMAND_TYPE_NAME) {
                        return "a command type name of " + command.length() + " characters for aggregate type "
                                + hosted.getKey();
                    }
                }
            }
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    /**
     * @param from a member that announced its graceful departure (possibly this one)
     * @return what changed
     */
    public synchronized Change onLeaving(Address from) {
        Snapshot before = current;
        if (!leaving.add(from)) {
            return new Change(before, before, Set.of());
        }
        revision++;
        current = build();
        return new Change(before, current, Set.of());
    }

    /**
     * @param address a member's address
     * @return the advertisement held for it, or null
     */
    public synchronized @Nullable Advertisement advertisementOf(Address address) {
        return advertisements.get(address);
    }

    /** @return true when every member of the current view has advertised itself */
    public synchronized boolean allAdvertised() {
        return advertisements.keySet().containsAll(viewMembers);
    }

    /** @return the members of the current view that have not advertised themselves */
    public synchronized List<Address> notAdvertised() {
        List<Address> missing = new ArrayList<>();
        for (Address member : viewMembers) {
            if (!advertisements.containsKey(member)) {
                missing.add(member);
            }
        }
        return missing;
    }

    /**
     * Why this member cannot rule out that some member handles a command type it knows no handler for: members of
     * its view have not advertised themselves to it yet (their advertisement may name the type), or the sender
     * routed with a ring built on a newer view than this member's (which may hold a member this one has not seen
     * yet). While either holds, "no member handles it" may be this member's lag rather than a fact: during a
     * rolling upgrade the sender may well know an upgraded member that this one has not heard from.
     *
     * @param senderRingVersion the version of the ring the sender routed with
     * @return what this member does not know yet, for a message; null when it holds the advertisement of every
     *         member of its view and the sender's view is not newer
     */
    public synchronized @Nullable String lagBehind(long senderRingVersion) {
        List<Address> missing = new ArrayList<>();
        for (Address member : viewMembers) {
            if (!advertisements.containsKey(member)) {
                missing.add(member);
            }
        }
        if (!missing.isEmpty()) {
            return "members " + missing + " of its view " + viewId + " have not advertised themselves to it yet";
        }
        long senderView = senderRingVersion >>> REVISION_BITS;
        if (senderView > viewId.getId()) {
            return "the sender routed with a ring of view " + senderView + ", newer than its view " + viewId;
        }
        return null;
    }

    /** @return the number of members in the current view */
    public synchronized int viewSize() {
        return viewMembers.size();
    }

    /**
     * @param aggregateType an aggregate type
     * @param commandType   a command type name
     * @return the ids of the members that advertise handling the command for that aggregate type
     */
    public synchronized List<String> handlersOf(String aggregateType, String commandType) {
        List<String> handlers = new ArrayList<>();
        for (Address address : viewMembers) {
            Advertisement ad = advertisements.get(address);
            if (ad != null && ad.hosted().getOrDefault(aggregateType, Set.of()).contains(commandType)) {
                handlers.add(ad.memberId());
            }
        }
        return handlers;
    }

    /**
     * Looks again at member ids advertised at two addresses, so that one still shared after the grace period is
     * reported as a duplicate even when nothing else changes. Cheap when no id is shared.
     */
    public synchronized void recheckSharedIds() {
        if (sharedIds.any()) {
            reportSharedIds();
        }
    }

    private void reportSharedIds() {
        Map<String, List<Address>> byId = new LinkedHashMap<>();
        for (Address address : viewMembers) {
            Advertisement ad = advertisements.get(address);
            if (ad != null && !leaving.contains(address)) {
                byId.computeIfAbsent(ad.memberId(), id -> new ArrayList<>(2)).add(address);
            }
        }
        byId.values().removeIf(addresses -> addresses.size() < 2);
        for (SharedMemberIds.Finding finding : sharedIds.observe(byId)) {
            if (finding.verdict() == SharedMemberIds.Verdict.RESTART) {
                log.warn("Member id '{}' is advertised by a new member {} while {} is still in the view: taken as a "
                        + "restart of '{}'. Its commands go to the older incarnation until that one is suspected and "
                        + "leaves the view, then to the new one", finding.memberId(), describe(finding.newer()),
                        describe(finding.older()), finding.memberId());
            } else {
                log.error("Two live cluster members advertise the member id '{}' ({} and {}), both still in the view "
                        + "long after a restarted member's older incarnation would have been suspected; only the "
                        + "first joined gets commands. Give every node its own nodeName.", finding.memberId(),
                        describe(finding.older()), describe(finding.newer()));
            }
        }
    }

    /** @return the address with its UUID: two incarnations of one member share their logical name */
    private static String describe(Address address) {
        String name = address.toString();
        return address instanceof org.jgroups.util.UUID uuid && !name.equals(uuid.toStringLong())
                ? name + " (" + uuid.toStringLong() + ")" : name;
    }

    private Snapshot build() {
        reportSharedIds();
        Map<String, Member> members = new LinkedHashMap<>();
        Map<String, Address> addresses = new HashMap<>();
        Map<String, String> aggregateOfCommand = new TreeMap<>();
        Map<String, Set<String>> commandsOfMember = new HashMap<>();
        int totalWeight = 0;
        for (Address address : viewMembers) {
            Advertisement ad = advertisements.get(address);
            if (ad == null || leaving.contains(address)) {
                continue;
            }
            if (members.containsKey(ad.memberId())) {
                // A restart or a duplicate, reported above: the address that joined first keeps the id's place.
                continue;
            }
            if (totalWeight + ad.weight() > HashRing.MAX_TOTAL_WEIGHT) {
                log.error("Member '{}' ({}) is left off the ring: the weights of the members would add up to more "
                        + "than {}", ad.memberId(), address, HashRing.MAX_TOTAL_WEIGHT);
                continue;
            }
            totalWeight += ad.weight();
            members.put(ad.memberId(), new Member(ad.memberId(), ad.weight(), ad.hosted().keySet()));
            addresses.put(ad.memberId(), address);
            Set<String> commands = new HashSet<>();
            ad.hosted().values().forEach(commands::addAll);
            commandsOfMember.put(ad.memberId(), Set.copyOf(commands));
            for (Map.Entry<String, Set<String>> hosted : ad.hosted().entrySet()) {
                for (String command : hosted.getValue()) {
                    String other = aggregateOfCommand.putIfAbsent(command, hosted.getKey());
                    if (other != null && !other.equals(hosted.getKey())) {
                        log.error("Member '{}' handles command type {} for aggregate type {}, another member for {};"
                                + " commands of that type go to {}", ad.memberId(), command, hosted.getKey(), other,
                                other);
                    }
                }
            }
        }
        long version = (viewId.getId() << REVISION_BITS) | (revision & ((1L << REVISION_BITS) - 1));
        HashRing ring = members.isEmpty() ? null : HashRing.of(version, new ArrayList<>(members.values()));
        return new Snapshot(ring, Map.copyOf(addresses), version, Map.copyOf(aggregateOfCommand),
                Map.copyOf(commandsOfMember));
    }
}
