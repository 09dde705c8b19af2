package io.gyre.routing;

import static io.gyre.routing.TestMembers.COMMAND;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HashRingTest {

    private static final Member OPENER = new Member("node-a", 1, Set.of("OpenAccount", "Withdraw"));
    private static final Member WITHDRAWER = new Member("node-b", 1, Set.of("Withdraw"));
    private static final Member REPORTER = new Member("node-c", 1, Set.of("Report"));

    @Test
    void members_are_kept_sorted_by_id_with_the_version() {
        HashRing ring = HashRing.of(7, List.of(REPORTER, OPENER, WITHDRAWER));

        assertThat(ring.version()).isEqualTo(7);
        assertThat(ring.members()).containsExactly(OPENER, WITHDRAWER, REPORTER);
        assertThat(ring).hasToString("HashRing[version=7, members=[node-a*1, node-b*1, node-c*1]]");
    }

    @Test
    void a_key_is_owned_by_a_member_that_handles_the_command_type() {
        HashRing ring = HashRing.of(1, List.of(OPENER, WITHDRAWER, REPORTER));

        for (String key : TestMembers.keys(2000, 1)) {
            assertThat(ring.owner(key, "OpenAccount")).isEqualTo(OPENER);
            assertThat(ring.owner(key, "Withdraw")).isIn(OPENER, WITHDRAWER);
            assertThat(ring.owner(key, "Report")).isEqualTo(REPORTER);
        }
    }

    @Test
    void members_that_handle_a_type_share_its_keys() {
        HashRing ring = HashRing.of(1, List.of(OPENER, WITHDRAWER, REPORTER));

        assertThat(ring.ownership("Withdraw").get("node-a")).isBetween(0.45, 0.55);
        assertThat(ring.ownership("Withdraw").get("node-b")).isBetween(0.45, 0.55);
        assertThat(ring.ownership("Withdraw").get("node-c")).isZero();
    }

    @Test
    void command_types_handled_by_the_same_members_share_one_table() {
        Member first = new Member("node-1", 1, Set.of("A", "B", "C"));
        Member second = new Member("node-2", 1, Set.of("A", "B", "C"));
        HashRing ring = HashRing.of(1, List.of(first, second));

        assertThat(ring.tableFor("A")).isSameAs(ring.tableFor("B")).isSameAs(ring.tableFor("C"))
                .isSameAs(ring.allMembersTable());
    }

    @Test
    void a_key_has_the_same_owner_whatever_the_member_order() {
        List<Member> members = TestMembers.uuids(10, 5);
        List<Member> reversed = new ArrayList<>(members);
        Collections.reverse(reversed);
        HashRing ring = HashRing.of(1, members);
        HashRing other = HashRing.of(2, reversed);

        for (String key : TestMembers.keys(1000, 2)) {
            assertThat(other.owner(key, COMMAND)).isEqualTo(ring.owner(key, COMMAND));
        }
    }

    @Test
    void a_string_builder_routes_like_the_equal_string() {
        HashRing ring = HashRing.of(1, TestMembers.nodes(8));

        assertThat(ring.owner(new StringBuilder("acc-").append(17), COMMAND)).isEqualTo(ring.owner("acc-17", COMMAND));
    }

    @Test
    void an_aggregate_type_nobody_hosts_is_refused_naming_the_type_and_the_members() {
        HashRing ring = HashRing.of(3, List.of(OPENER, WITHDRAWER));

        assertThatThrownBy(() -> ring.owner("acc-1", "CloseAccount"))
                .isInstanceOfSatisfying(NoEligibleMemberException.class, e -> {
                    assertThat(e.aggregateType()).isEqualTo("CloseAccount");
                    assertThat(e.ringVersion()).isEqualTo(3);
                    assertThat(e.memberIds()).containsExactly("node-a", "node-b");
                })
                .hasMessage("No member hosts aggregate type 'CloseAccount' in ring version 3; members: "
                        + "[node-a hosts [OpenAccount, Withdraw], node-b hosts [Withdraw]]; a node that hosts it may "
                        + "still be joining");
    }

    @Test
    void a_command_type_is_refused_by_every_view_of_the_ring() {
        HashRing ring = HashRing.of(3, List.of(OPENER));

        assertThatThrownBy(() -> ring.ownership("Report")).isInstanceOf(NoEligibleMemberException.class);
        assertThatThrownBy(() -> RingDiff.between(ring, ring, "Report")).isInstanceOf(NoEligibleMemberException.class);
    }

    @Test
    void a_null_routing_key_is_refused() {
        HashRing ring = HashRing.of(1, List.of(OPENER));

        assertThatThrownBy(() -> ring.owner(null, "Withdraw"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("routingKey must not be null");
    }

    @Test
    void a_null_command_type_is_refused() {
        HashRing ring = HashRing.of(1, List.of(OPENER));

        assertThatThrownBy(() -> ring.owner("acc-1", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("aggregateType must not be null");
    }

    @Test
    void a_blank_command_type_is_refused() {
        HashRing ring = HashRing.of(1, List.of(OPENER));

        assertThatThrownBy(() -> ring.owner("acc-1", "  "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("aggregateType must not be blank, but was '  '");
    }

    @Test
    void an_empty_ring_is_refused() {
        assertThatThrownBy(() -> HashRing.of(4, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a ring needs at least one member, but version 4 has none");
    }

    @Test
    void duplicate_member_ids_are_refused_naming_the_id() {
        Member again = new Member("node-a", 2, Set.of("Report"));

        assertThatThrownBy(() -> HashRing.of(1, List.of(OPENER, WITHDRAWER, again)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("member ids must be unique, but 'node-a' appears more than once in "
                        + "[node-a, node-a, node-b]");
    }

    @Test
    void a_negative_version_is_refused() {
        assertThatThrownBy(() -> HashRing.of(-1, List.of(OPENER)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("version must not be negative, but was -1");
    }

    @Test
    void null_members_are_refused() {
        assertThatThrownBy(() -> HashRing.of(1, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("members must not be null");
        assertThatThrownBy(() -> HashRing.of(1, Arrays.asList(OPENER, null)))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("members must not contain null");
    }

    @Test
    void weights_summing_above_the_limit_are_refused() {
        List<Member> heavy = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            heavy.add(new Member("node-" + i, 100, Set.of(COMMAND)));
        }

        assertThatThrownBy(() -> HashRing.of(2, heavy))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the weights of a ring must sum to at most 1024, but the 11 members of version 2 "
                        + "sum to 1100");
    }

    @Test
    void a_single_member_owns_everything() {
        HashRing ring = HashRing.of(1, List.of(WITHDRAWER));

        assertThat(ring.ownership()).containsEntry("node-b", 1.0);
        assertThat(ring.owner("anything", "Withdraw")).isEqualTo(WITHDRAWER);
    }
}
