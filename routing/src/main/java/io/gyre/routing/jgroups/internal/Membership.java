package io.gyre.routing.jgroups.internal;

import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is in the cluster and what each member handles, turned into the ring every member computes alike: the
 * members of the current JGroups view that have advertised themselves and have not announced their departure,
 * in any order (the ring does not depend on it). Updates are serialized; readers take the current
 * {@link Snapshot} without locking. Internal: not part of Gyre's API.
 */
public final class Membership {

    private static final Logger log = LoggerFactory.getLogger(Membership.class);

    /**
     * One state of the ring.
     *
     * @param ring      the ring, or null when no member can take commands
     * @param addresses each member id's JGroups address
     * @param version   monotonic: the view id in the high bits, the rebuilds within the view in the low 20
     */
    public record Snapshot(@Nullable HashRing ring, Map<String, Address> addresses, long version) {
    }

    /**
     * What a membership event changed.
     *
     * @param before   the ring before
     * @param after    the ring after
     * @param departed members that left the view
     */
    public record Change(Snapshot before, Snapshot after, Set<Address> departed) {
    }

    private final Address self;
    private final Map<Address, Advertisement> advertisements = new HashMap<>();
    private final Set<Address> leaving = new HashSet<>();
    private List<Address> viewMembers;
    private long viewId;
    private long revision;
    private volatile Snapshot current;

    /**
     * @param self   this member's address
     * @param ownAd  this member's advertisement
     * @param view   the view this member joined with
     */
    public Membership(Address self, Advertisement ownAd, View view) {
        this.self = self;
        this.advertisements.put(self, ownAd);
        this.viewMembers = List.copyOf(view.getMembers());
        this.viewId = view.getViewId().getId();
        this.current = build();
    }

    /** @return the current ring state */
    public Snapshot current() {
        return current;
    }

    /**
     * @param view the new view
     * @return what changed
     */
    public synchronized Change onView(View view) {
        Snapshot before = current;
        Set<Address> departed = new HashSet<>(viewMembers);
        departed.removeAll(view.getMembers());
        viewMembers = List.copyOf(view.getMembers());
        viewId = view.getViewId().getId();
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
        try {
            new Member(ad.memberId(), ad.weight(), ad.commandTypes());
        } catch (RuntimeException e) {
            log.error("Ignoring the advertisement of {}: {}", from, e.getMessage());
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

    /** @return true when every member of the current view has advertised itself */
    public synchronized boolean allAdvertised() {
        return advertisements.keySet().containsAll(viewMembers);
    }

    private Snapshot build() {
        Map<String, Member> members = new LinkedHashMap<>();
        Map<String, Address> addresses = new HashMap<>();
        int totalWeight = 0;
        for (Address address : viewMembers) {
            Advertisement ad = advertisements.get(address);
            if (ad == null || leaving.contains(address)) {
                continue;
            }
            if (members.containsKey(ad.memberId())) {
                log.error("Two cluster members advertise the member id '{}' ({} and {}); only the first joined "
                        + "gets commands. Give every node its own nodeName.", ad.memberId(),
                        addresses.get(ad.memberId()), address);
                continue;
            }
            if (totalWeight + ad.weight() > HashRing.MAX_TOTAL_WEIGHT) {
                log.error("Member '{}' ({}) is left off the ring: the weights of the members would add up to more "
                        + "than {}", ad.memberId(), address, HashRing.MAX_TOTAL_WEIGHT);
                continue;
            }
            totalWeight += ad.weight();
            members.put(ad.memberId(), new Member(ad.memberId(), ad.weight(), ad.commandTypes()));
            addresses.put(ad.memberId(), address);
        }
        long version = (viewId << 20) | (revision & 0xF_FFFF);
        HashRing ring = members.isEmpty() ? null : HashRing.of(version, new ArrayList<>(members.values()));
        return new Snapshot(ring, Map.copyOf(addresses), version);
    }
}
