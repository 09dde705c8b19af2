package io.gyre.routing.jgroups.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.jgroups.Address;

/**
 * Tells a restarted member from two live members that were given the same member id, which the view alone cannot:
 * both look like two addresses advertising one id. A node that restarts under its member id joins while its older
 * incarnation may still be in the view for a moment (until it is suspected: a killed process within about half a
 * second, a hung one after {@code suspectAfter}), so an id seen at two addresses is first taken as a restart; only
 * when both are still there after a grace period longer than suspicion takes is it called a duplicate.
 *
 * <p>Each pair is reported once per verdict, however often the ring is rebuilt meanwhile. Not thread-safe: used under
 * the {@link Membership}'s lock. Internal: not part of Gyre's API.
 */
public final class SharedMemberIds {

    /** What an id at two addresses is taken for. */
    public enum Verdict {
        /** First seen: most likely a restart; the older incarnation is about to be suspected. */
        RESTART,
        /** Still there after the grace period: two live members share the id. */
        DUPLICATE
    }

    /**
     * One id at two addresses, to report.
     *
     * @param verdict  what it is taken for
     * @param memberId the shared member id
     * @param older    the address that joined the view first, which keeps the id's place on the ring
     * @param newer    the address that joined later
     */
    public record Finding(Verdict verdict, String memberId, Address older, Address newer) {
    }

    private record Pair(String memberId, Address older, Address newer) {
    }

    private final Duration grace;
    private final LongSupplier nanoTime;
    private final Map<Pair, Long> firstSeen = new HashMap<>();
    private final Set<Pair> reportedAsDuplicate = new HashSet<>();

    /**
     * @param grace    how long both addresses may stay before the id is called a duplicate: longer than suspecting
     *                 a member takes
     * @param nanoTime the time source, {@code System::nanoTime} outside tests
     */
    public SharedMemberIds(Duration grace, LongSupplier nanoTime) {
        this.grace = Objects.requireNonNull(grace, "grace");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative, but was " + grace);
        }
    }

    /**
     * @param addressesById the addresses of each advertised member id of the view, in view order (older first); ids
     *                      at one address may be left out
     * @return what is new to report: ids first seen at two addresses, and those still there after the grace period;
     *         pairs no longer present are forgotten
     */
    public List<Finding> observe(Map<String, List<Address>> addressesById) {
        long now = nanoTime.getAsLong();
        Set<Pair> present = new HashSet<>();
        List<Finding> findings = new ArrayList<>();
        for (Map.Entry<String, List<Address>> entry : addressesById.entrySet()) {
            List<Address> addresses = entry.getValue();
            for (int i = 1; i < addresses.size(); i++) {
                Pair pair = new Pair(entry.getKey(), addresses.get(0), addresses.get(i));
                present.add(pair);
                Long since = firstSeen.putIfAbsent(pair, now);
                if (since == null) {
                    findings.add(new Finding(Verdict.RESTART, pair.memberId(), pair.older(), pair.newer()));
                } else if (now - since > grace.toNanos() && reportedAsDuplicate.add(pair)) {
                    findings.add(new Finding(Verdict.DUPLICATE, pair.memberId(), pair.older(), pair.newer()));
                }
            }
        }
        firstSeen.keySet().retainAll(present);
        reportedAsDuplicate.retainAll(present);
        return findings;
    }

    /** @return true while some id is at two addresses, so that it is looked at again when the grace period ends */
    public boolean any() {
        return !firstSeen.isEmpty();
    }
}
