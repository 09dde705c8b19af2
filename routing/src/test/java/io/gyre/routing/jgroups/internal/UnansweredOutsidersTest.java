package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/** Who is told to send again what it sent from outside the view: only members of the view, each once; bounded. */
class UnansweredOutsidersTest {

    private final AtomicLong now = new AtomicLong();
    private final UnansweredOutsiders outsiders = new UnansweredOutsiders(now::get);
    private final Address self = UUID.randomUUID();
    private final Address member = UUID.randomUUID();
    private long viewId;

    @Test
    void a_sender_whose_frames_were_dropped_is_told_once_when_a_view_holds_it() {
        Address newcomer = UUID.randomUUID();
        assertThat(outsiders.onView(view(self, member), self)).isEmpty();

        assertThat(outsiders.unanswered(newcomer, () -> view(self, member))).isFalse();
        assertThat(outsiders.unanswered(newcomer, () -> view(self, member))).isFalse();

        assertThat(outsiders.onView(view(self, member, newcomer), self)).containsExactly(newcomer);
        assertThat(outsiders.onView(view(self, member, newcomer), self)).as("told once").isEmpty();
        assertThat(outsiders.size()).isZero();
    }

    @Test
    void a_drop_judged_on_the_old_view_while_the_new_one_arrives_is_told_by_the_drop_itself() {
        Address newcomer = UUID.randomUUID();
        outsiders.onView(view(self, member), self);
        View withNewcomer = view(self, member, newcomer);
        // The view change has passed: the drop sees the channel's new view and tells the sender itself.
        outsiders.onView(withNewcomer, self);

        assertThat(outsiders.unanswered(newcomer, () -> withNewcomer)).isTrue();
        assertThat(outsiders.size()).isZero();
    }

    @Test
    void members_that_had_nothing_dropped_are_not_told() {
        assertThat(outsiders.onView(view(self, member), self)).isEmpty();
        assertThat(outsiders.onView(view(self, member, UUID.randomUUID()), self)).isEmpty();
    }

    @Test
    void made_up_addresses_are_never_told_and_at_most_the_bound_are_kept() {
        outsiders.onView(view(self, member), self);
        for (int i = 0; i < 100_000; i++) {
            Address address = UUID.randomUUID();
            outsiders.unanswered(address, () -> view(self, member));
        }

        assertThat(outsiders.size()).isEqualTo(UnansweredOutsiders.MAX_ADDRESSES);
        assertThat(outsiders.onView(view(self, member), self)).as("no made-up address is in a view").isEmpty();
        assertThat(outsiders.size()).as("those recorded stay until evicted")
                .isEqualTo(UnansweredOutsiders.MAX_ADDRESSES);
    }

    @Test
    void a_newcomer_pushed_out_of_the_record_by_made_up_addresses_is_still_told_when_it_joins() {
        Address newcomer = UUID.randomUUID();
        Address alreadyIn = UUID.randomUUID();
        outsiders.onView(view(self, member, alreadyIn), self);
        outsiders.unanswered(newcomer, () -> view(self, member, alreadyIn));
        for (int i = 0; i < 2 * UnansweredOutsiders.MAX_ADDRESSES; i++) {
            outsiders.unanswered(UUID.randomUUID(), () -> view(self, member, alreadyIn));
        }
        now.addAndGet(TimeUnit.MINUTES.toNanos(59));

        assertThat(outsiders.onView(view(self, member, alreadyIn, newcomer), self))
                .as("every member that joins soon after the record lost track; not those already in the view")
                .containsExactly(newcomer);
    }

    @Test
    void an_hour_after_the_last_eviction_only_recorded_senders_are_told_again() {
        outsiders.onView(view(self, member), self);
        for (int i = 0; i <= UnansweredOutsiders.MAX_ADDRESSES; i++) {
            outsiders.unanswered(UUID.randomUUID(), () -> view(self, member));
        }
        Address recorded = UUID.randomUUID();
        outsiders.unanswered(recorded, () -> view(self, member));
        now.addAndGet(UnansweredOutsiders.LOST_TRACK_NANOS);

        assertThat(outsiders.onView(view(self, member, UUID.randomUUID(), recorded), self)).containsExactly(recorded);
    }

    private View view(Address... members) {
        return View.create(self, ++viewId, members);
    }
}
