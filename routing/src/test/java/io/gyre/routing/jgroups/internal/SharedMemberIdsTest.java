package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.routing.jgroups.internal.SharedMemberIds.Finding;
import io.gyre.routing.jgroups.internal.SharedMemberIds.Verdict;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

class SharedMemberIdsTest {

    private final AtomicLong now = new AtomicLong();
    private final SharedMemberIds shared = new SharedMemberIds(Duration.ofSeconds(8), now::get);
    private final Address older = UUID.randomUUID();
    private final Address newer = UUID.randomUUID();

    private void advance(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void an_id_at_two_addresses_is_first_taken_as_a_restart_and_reported_once() {
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer))))
                .containsExactly(new Finding(Verdict.RESTART, "node-b", older, newer));
        advance(1);
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer)))).isEmpty();
        assertThat(shared.any()).isTrue();
    }

    @Test
    void a_restart_whose_older_incarnation_leaves_in_time_is_never_called_a_duplicate() {
        shared.observe(Map.of("node-b", List.of(older, newer)));
        advance(3);
        assertThat(shared.observe(Map.of())).isEmpty();
        assertThat(shared.any()).isFalse();
        advance(30);
        assertThat(shared.observe(Map.of())).isEmpty();
    }

    @Test
    void an_id_still_at_two_addresses_after_the_grace_period_is_a_duplicate_reported_once() {
        shared.observe(Map.of("node-b", List.of(older, newer)));
        advance(8);
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer)))).as("not after the grace period yet")
                .isEmpty();
        advance(1);
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer))))
                .containsExactly(new Finding(Verdict.DUPLICATE, "node-b", older, newer));
        advance(60);
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer)))).isEmpty();
    }

    @Test
    void a_second_restart_of_the_same_id_starts_its_own_grace_period() {
        shared.observe(Map.of("node-b", List.of(older, newer)));
        advance(2);
        shared.observe(Map.of());
        Address third = UUID.randomUUID();
        advance(20);
        assertThat(shared.observe(Map.of("node-b", List.of(newer, third))))
                .containsExactly(new Finding(Verdict.RESTART, "node-b", newer, third));
    }

    @Test
    void three_addresses_for_one_id_are_each_paired_with_the_oldest() {
        Address third = UUID.randomUUID();
        assertThat(shared.observe(Map.of("node-b", List.of(older, newer, third)))).containsExactlyInAnyOrder(
                new Finding(Verdict.RESTART, "node-b", older, newer),
                new Finding(Verdict.RESTART, "node-b", older, third));
    }

    @Test
    void a_negative_grace_period_is_refused() {
        assertThatThrownBy(() -> new SharedMemberIds(Duration.ofSeconds(-1), System::nanoTime))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-1S");
    }

    @Test
    void while_a_restarted_member_shares_its_id_the_older_incarnation_keeps_its_place_on_the_ring() {
        Address self = UUID.randomUUID();
        Map<String, Set<String>> types = Map.of("Ledger", Set.of("Post"));
        Membership membership = new Membership(self, new Advertisement("node-a", 1, types),
                View.create(self, 1, self, older), shared);
        membership.onAdvertisement(older, new Advertisement("node-b", 1, types));

        membership.onView(View.create(self, 2, self, older, newer));
        membership.onAdvertisement(newer, new Advertisement("node-b", 1, types));
        assertThat(membership.current().addresses()).containsEntry("node-b", older);
        assertThat(shared.any()).isTrue();

        membership.onView(View.create(self, 3, self, newer));
        assertThat(membership.current().addresses()).containsEntry("node-b", newer);
        assertThat(shared.any()).as("the restart is over").isFalse();
    }
}
