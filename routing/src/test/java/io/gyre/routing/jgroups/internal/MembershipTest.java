package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.routing.HashRing;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

class MembershipTest {

    private static final Map<String, Set<String>> TYPES = Map.of("Ledger", Set.of("Post"));

    private static List<Address> addresses(int count) {
        List<Address> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            addresses.add(UUID.randomUUID());
        }
        return addresses;
    }

    @Test
    void the_ring_holds_advertised_members_of_the_view_and_says_when_all_have_advertised() {
        List<Address> members = addresses(3);
        Membership membership = new Membership(members.get(0), new Advertisement("a", 1, TYPES),
                View.create(members.get(0), 1, members.toArray(Address[]::new)));
        assertThat(membership.allAdvertised()).isFalse();
        assertThat(membership.current().ring().members()).hasSize(1);

        membership.onAdvertisement(members.get(1), new Advertisement("b", 1, TYPES));
        membership.onAdvertisement(members.get(2), new Advertisement("c", 1, TYPES));
        assertThat(membership.allAdvertised()).isTrue();
        assertThat(membership.current().addresses()).containsOnlyKeys("a", "b", "c");
    }

    @Test
    void a_malformed_advertisement_is_ignored_and_the_membership_keeps_working() {
        List<Address> members = addresses(3);
        Membership membership = new Membership(members.get(0), new Advertisement("a", 1, TYPES),
                View.create(members.get(0), 1, members.toArray(Address[]::new)));
        Membership.Change ignored = membership.onAdvertisement(members.get(1), new Advertisement(" ", 0, TYPES));
        assertThat(ignored.after()).isSameAs(ignored.before());

        membership.onAdvertisement(members.get(2), new Advertisement("c", 1, TYPES));
        Membership.Change change = membership.onView(View.create(members.get(0), 2, members.get(0), members.get(2)));
        assertThat(change.departed()).containsExactly(members.get(1));
        assertThat(change.after().addresses()).containsOnlyKeys("a", "c");
    }

    @Test
    void members_beyond_the_rings_total_weight_are_left_off_instead_of_breaking_the_ring() {
        int count = HashRing.MAX_TOTAL_WEIGHT / 100 + 2;
        List<Address> members = addresses(count);
        Membership membership = new Membership(members.get(0), new Advertisement("m0", 100, TYPES),
                View.create(members.get(0), 1, members.toArray(Address[]::new)));
        for (int i = 1; i < count; i++) {
            membership.onAdvertisement(members.get(i), new Advertisement("m" + i, 100, TYPES));
        }
        assertThat(membership.current().ring().members()).hasSize(HashRing.MAX_TOTAL_WEIGHT / 100);
        Membership.Change change = membership.onView(View.create(members.get(0), 2, members.get(0), members.get(1)));
        assertThat(change.after().addresses()).containsOnlyKeys("m0", "m1");
    }

    @Test
    void a_view_older_than_the_current_one_is_ignored() {
        List<Address> members = addresses(3);
        Membership membership = new Membership(members.get(0), new Advertisement("a", 1, TYPES),
                View.create(members.get(0), 1, members.get(0)));
        membership.onView(View.create(members.get(0), 3, members.toArray(Address[]::new)));
        membership.onAdvertisement(members.get(1), new Advertisement("b", 1, TYPES));
        membership.onAdvertisement(members.get(2), new Advertisement("c", 1, TYPES));
        Membership.Snapshot three = membership.current();

        Membership.Change late = membership.onView(View.create(members.get(0), 2, members.get(0), members.get(1)));

        assertThat(late.changed()).isFalse();
        assertThat(membership.current()).isSameAs(three);
        assertThat(membership.current().addresses()).containsOnlyKeys("a", "b", "c");
    }

    @Test
    void commands_are_known_by_the_aggregate_type_their_members_advertise_and_malformed_types_are_refused() {
        List<Address> members = addresses(2);
        Membership membership = new Membership(members.get(0), new Advertisement("a", 1,
                Map.of("Ledger", Set.of("Post", "OpenLedger"))), View.create(members.get(0), 1,
                members.toArray(Address[]::new)));
        membership.onAdvertisement(members.get(1), new Advertisement("b", 1,
                Map.of("Ledger", Set.of("Post", "Withdraw"), "Tally", Set.of("Count"))));
        Membership.Snapshot snapshot = membership.current();
        assertThat(snapshot.aggregateOf("Withdraw")).isEqualTo("Ledger");
        assertThat(snapshot.aggregateOf("Count")).isEqualTo("Tally");
        assertThat(snapshot.aggregateOf("Nothing")).isNull();
        assertThat(membership.handlersOf("Ledger", "Withdraw")).containsExactly("b");
        assertThat(snapshot.ring().owner("t-1", "Tally").id()).isEqualTo("b");

        Membership.Change refused = membership.onAdvertisement(members.get(1), new Advertisement("b", 1,
                Map.of("bad name!", Set.of("Post"))));
        assertThat(refused.changed()).isFalse();
    }
}
