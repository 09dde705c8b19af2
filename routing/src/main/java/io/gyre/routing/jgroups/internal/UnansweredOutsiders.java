package io.gyre.routing.jgroups.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;

/**
 * The addresses outside the view whose commands this member left without a sure answer: frames it dropped unread
 * (past the {@link OutsiderBudget}), and frames whose commands it refused with an
 * {@link WireMessage.OutsideViewRefusal}, which is sent once, unreliably, and may be lost (a full send queue, say).
 * Each such address that enters the view is told so, once, by a {@link WireMessage.SendAgain}, and sends again what it
 * still waits on. Without it a newcomer
 * whose commands were dropped (a few addresses outside the view can keep the budget shared by all of them empty, and
 * a made-up address is indistinguishable from a newcomer until the view says otherwise), or whose refusal was lost,
 * waits for their deadline: nothing else answers them. The view is what tells a newcomer from a made-up address, so
 * nothing here reads or sends anything for an address outside it: what a peer outside the view can make this member
 * do stays bounded by the budget, and what this member sends for this record is one small frame per member that
 * enters its view.
 *
 * <p>Bounded: at most {@link #MAX_ADDRESSES} addresses are kept, the least recently recorded evicted first, since a
 * peer can make up any number of them. Having evicted one, this member no longer knows whether a member that joins
 * was left unanswered: for {@link #LOST_TRACK_NANOS} after an eviction it tells every member that enters its view
 * (costing that member a re-send of what it waits on from this one, which the owner answers from its store), so a
 * flood of made-up addresses cannot push a real newcomer out of the record and back to waiting for its deadline.
 *
 * <p>A record races with the view that admits its sender: the channel takes a view before {@link #onView} runs, and a
 * frame may have been judged outside the view just before. Under one lock, {@link #unanswered} records the address
 * and then looks at the channel's view again, and {@link #onView} takes the addresses the new view holds: whichever
 * comes second finds the address in the view, or in the record, so one of them reports it (both may, for an address
 * evicted meanwhile: a second notice costs a second re-send, never a lost one). Thread-safe. Internal: not part of
 * Gyre's API.
 */
public final class UnansweredOutsiders {

    /** The most addresses remembered. */
    public static final int MAX_ADDRESSES = 1024;
    /**
     * How long after an eviction every member that enters the view is told, as if its frames had been dropped: an
     * hour, the longest a member waits for the answer to a command it sent ({@link OutboundCommand}).
     */
    public static final long LOST_TRACK_NANOS = TimeUnit.HOURS.toNanos(1);

    private final LongSupplier nanoTime;
    private final Map<Address, Boolean> addresses = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Address, Boolean> eldest) {
            if (size() <= MAX_ADDRESSES) {
                return false;
            }
            lostTrack = true;
            lostTrackAt = now;
            return true;
        }
    };
    /** The time of the call in progress, for {@link #addresses}' eviction. */
    private long now;
    private boolean lostTrack;
    private long lostTrackAt;
    private Set<Address> lastView = Set.of();

    /** A record on the system's monotonic clock. */
    public UnansweredOutsiders() {
        this(System::nanoTime);
    }

    /** @param nanoTime a monotonic clock in nanoseconds */
    public UnansweredOutsiders(LongSupplier nanoTime) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * Records that a frame from an address outside the view was dropped unread, or its commands refused.
     *
     * @param from        the sender
     * @param currentView the channel's view, read after the address is recorded
     * @return true when that view holds the sender already (its view arrived meanwhile): the caller tells it now,
     *         and it is no longer recorded
     */
    public synchronized boolean unanswered(Address from, Supplier<@Nullable View> currentView) {
        now = nanoTime.getAsLong();
        addresses.put(from, Boolean.TRUE);
        View view = currentView.get();
        if (view != null && view.containsMember(from)) {
            addresses.remove(from);
            return true;
        }
        return false;
    }

    /**
     * Takes the members of a new view that must be told to send again: those recorded, and, within
     * {@link #LOST_TRACK_NANOS} of an eviction, every member that was not in the last view.
     *
     * @param view the new view, installed in the channel already
     * @param self this member's address, never told
     * @return the members to tell, each once
     */
    public synchronized List<Address> onView(View view, Address self) {
        now = nanoTime.getAsLong();
        if (lostTrack && now - lostTrackAt >= LOST_TRACK_NANOS) {
            lostTrack = false;
        }
        List<Address> tell = new ArrayList<>();
        for (Address member : view.getMembers()) {
            boolean recorded = addresses.remove(member) != null;
            if (!member.equals(self) && (recorded || (lostTrack && !lastView.contains(member)))) {
                tell.add(member);
            }
        }
        lastView = new HashSet<>(view.getMembers());
        return tell;
    }

    /** @return how many addresses are recorded */
    public synchronized int size() {
        return addresses.size();
    }
}
