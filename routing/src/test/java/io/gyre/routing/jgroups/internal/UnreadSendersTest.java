package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/** Who is told that its frames were dropped unread: only members of the view, each once, in bounded memory. */
class UnreadSendersTest {

    private final AtomicLong now = new AtomicLong();
    private final UnreadSenders unread = new UnreadSenders(now::get);
    private final Address self = UUID.randomUUID();
    private final Address member = UUID.randomUUID();
    private long viewId;

    @Test
    void a_sender_whose_frames_were_dropped_is_told_once_when_a_view_holds_it() {
        Address newcomer = UUID.randomUUID();
        assertThat(unread.onView(view(self, member), self)).isEmpty();

        assertThat(unread.dropped(newcomer, () -> view(self, member))).isFalse();
        assertThat(unread.dropped(newcomer, () -> view(self, member))).isFalse();

        assertThat(unread.onView(view(self, member, newcomer), self)).containsExactly(newcomer);
        assertThat(unread.onView(view(self, member, newcomer), self)).as("told once").isEmpty();
        assertThat(unread.size()).isZero();
    }

    @Test
    void a_drop_judged_on_the_old_view_while_the_new_one_arrives_is_told_by_the_drop_itself() {
        Address newcomer = UUID.randomUUID();
        unread.onView(view(self, member), self);
        View withNewcomer = view(self, member, newcomer);
        // The view change has passed: the drop sees the channel's new view and tells the sender itself.
        unread.onView(withNewcomer, self);

        assertThat(unread.dropped(newcomer, () -> withNewcomer)).isTrue();
        assertThat(unread.size()).isZero();
    }

    @Test
    void members_that_had_nothing_dropped_are_not_told() {
        assertThat(unread.onView(view(self, member), self)).isEmpty();
        assertThat(unread.onView(view(self, member, UUID.randomUUID()), self)).isEmpty();
    }

    @Test
    void made_up_addresses_are_never_told_and_at_most_the_bound_are_kept() {
        unread.onView(view(self, member), self);
        List<Address> madeUp = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            Address address = UUID.randomUUID();
            madeUp.add(address);
            unread.dropped(address, () -> view(self, member));
        }

        assertThat(unread.size()).isEqualTo(UnreadSenders.MAX_ADDRESSES);
        assertThat(unread.onView(view(self, member), self)).as("no made-up address is in a view").isEmpty();
        assertThat(unread.size()).as("those recorded stay until evicted").isEqualTo(UnreadSenders.MAX_ADDRESSES);
    }

    @Test
    void a_newcomer_pushed_out_of_the_record_by_made_up_addresses_is_still_told_when_it_joins() {
        Address newcomer = UUID.randomUUID();
        Address alreadyIn = UUID.randomUUID();
        unread.onView(view(self, member, alreadyIn), self);
        unread.dropped(newcomer, () -> view(self, member, alreadyIn));
        for (int i = 0; i < 2 * UnreadSenders.MAX_ADDRESSES; i++) {
            unread.dropped(UUID.randomUUID(), () -> view(self, member, alreadyIn));
        }
        now.addAndGet(TimeUnit.MINUTES.toNanos(59));

        assertThat(unread.onView(view(self, member, alreadyIn, newcomer), self))
                .as("every member that joins soon after the record lost track; not those already in the view")
                .containsExactly(newcomer);
    }

    @Test
    void an_hour_after_the_last_eviction_only_recorded_senders_are_told_again() {
        unread.onView(view(self, member), self);
        for (int i = 0; i <= UnreadSenders.MAX_ADDRESSES; i++) {
            unread.dropped(UUID.randomUUID(), () -> view(self, member));
        }
        Address recorded = UUID.randomUUID();
        unread.dropped(recorded, () -> view(self, member));
        now.addAndGet(UnreadSenders.LOST_TRACK_NANOS);

        assertThat(unread.onView(view(self, member, UUID.randomUUID(), recorded), self)).containsExactly(recorded);
    }

    private View view(Address... members) {
        return View.create(self, ++viewId, members);
    }
}
