package io.gyre.routing;

import static io.gyre.routing.TestMembers.COMMAND;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RingDiffTest {

    @Test
    void rings_of_the_same_members_differ_nowhere() {
        RingDiff diff = RingDiff.between(HashRing.of(1, TestMembers.nodes(5)), HashRing.of(2, TestMembers.nodes(5)));

        assertThat(diff.isEmpty()).isTrue();
        assertThat(diff.movedFraction()).isZero();
        assertThat(diff.movedAway("acc-1", "node-1")).isFalse();
        assertThat(diff.movedRangeOf("acc-1")).isNull();
        assertThat(diff.olderVersion()).isEqualTo(1);
        assertThat(diff.newerVersion()).isEqualTo(2);
        assertThat(diff).hasToString("RingDiff[1 -> 2, 0 ranges, 0.0000 of the key space moved]");
    }

    @Test
    void a_key_moved_away_only_from_its_old_owner() {
        HashRing older = HashRing.of(1, TestMembers.nodes(4));
        HashRing newer = HashRing.of(2, TestMembers.nodes(5));
        RingDiff diff = RingDiff.between(older, newer);

        int moved = 0;
        for (String key : TestMembers.keys(5000, 3)) {
            String before = older.owner(key, COMMAND).id();
            String after = newer.owner(key, COMMAND).id();
            for (Member m : older.members()) {
                assertThat(diff.movedAway(key, m.id())).isEqualTo(m.id().equals(before) && !before.equals(after));
            }
            if (!before.equals(after)) {
                moved++;
                assertThat(diff.movedRangeOf(key)).isEqualTo(diff.movedRanges().stream()
                        .filter(r -> r.range().containsKey(key)).findFirst().orElseThrow());
            }
        }
        assertThat(moved).isBetween(800, 1200);
    }

    @Test
    void the_per_member_test_says_exactly_which_keys_moved_to_or_from_that_member() {
        HashRing older = HashRing.of(1, TestMembers.nodes(4));
        HashRing newer = HashRing.of(2, TestMembers.nodes(5));
        RingDiff diff = RingDiff.between(older, newer);
        for (Member member : newer.members()) {
            java.util.function.Predicate<CharSequence> moved = diff.movedToOrFrom(member.id());
            for (String key : TestMembers.keys(5000, 7)) {
                String before = older.owner(key, COMMAND).id();
                String after = newer.owner(key, COMMAND).id();
                boolean expected = !before.equals(after) && (before.equals(member.id()) || after.equals(member.id()));
                assertThat(moved.test(key)).as("%s for %s", key, member.id()).isEqualTo(expected);
            }
        }
    }

    @Test
    void moved_ranges_are_sorted_disjoint_and_add_up_to_the_change_in_ownership() {
        HashRing older = HashRing.of(1, TestMembers.nodes(8));
        HashRing newer = HashRing.of(2, TestMembers.nodes(9));
        RingDiff diff = RingDiff.between(older, newer);

        List<MovedRange> ranges = diff.movedRanges();
        for (int i = 1; i < ranges.size(); i++) {
            assertThat(Long.compareUnsigned(ranges.get(i - 1).range().last(), ranges.get(i).range().first()))
                    .isNegative();
        }
        assertThat(diff.movedFraction()).isEqualTo(newer.ownership().get("node-9"));
    }

    @Test
    void raising_a_weight_moves_keys_only_to_that_member() {
        List<Member> before = TestMembers.nodes(6);
        List<Member> after = new ArrayList<>(before);
        after.set(2, new Member("node-3", 2, Set.of(COMMAND)));

        RingDiff diff = RingDiff.between(HashRing.of(1, before), HashRing.of(2, after));

        assertThat(diff.movedRanges()).isNotEmpty().allSatisfy(r -> assertThat(r.to()).isEqualTo("node-3"));
        assertThat(diff.movedFraction()).isBetween(2.0 / 7 - 1.0 / 6 - 0.02, 2.0 / 7 - 1.0 / 6 + 0.02);
    }

    @Test
    void a_member_that_cannot_handle_a_type_moves_none_of_its_keys() {
        List<Member> before = TestMembers.nodes(3);
        List<Member> after = new ArrayList<>(before);
        after.add(new Member("auditor", 1, Set.of("Audit")));
        HashRing older = HashRing.of(1, before);
        HashRing newer = HashRing.of(2, after);

        assertThat(RingDiff.between(older, newer, COMMAND).isEmpty()).isTrue();
        assertThat(RingDiff.between(older, newer).movedRanges())
                .isNotEmpty().allSatisfy(r -> assertThat(r.to()).isEqualTo("auditor"));
    }
}
