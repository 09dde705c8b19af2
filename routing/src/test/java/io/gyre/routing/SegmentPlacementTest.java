package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SegmentPlacementTest {

    private static Member member(String id) {
        return new Member(id, 1, Set.of());
    }

    private static List<Member> members(int count) {
        return IntStream.range(0, count).mapToObj(i -> member("node-" + i)).toList();
    }

    private static Map<String, Integer> loads(Map<Integer, String> placement) {
        Map<String, Integer> loads = new HashMap<>();
        placement.values().forEach(owner -> loads.merge(owner, 1, Integer::sum));
        return loads;
    }

    private static int moved(Map<Integer, String> before, Map<Integer, String> after) {
        int moved = 0;
        for (Map.Entry<Integer, String> entry : before.entrySet()) {
            if (!entry.getValue().equals(after.get(entry.getKey()))) {
                moved++;
            }
        }
        return moved;
    }

    @Test
    void every_segment_gets_exactly_one_member_and_shares_differ_by_at_most_one() {
        for (int nodes = 1; nodes <= 9; nodes++) {
            for (int segments : new int[] {1, 2, 3, 7, 8, 16, 31, 64, 256}) {
                Map<Integer, String> placement = SegmentPlacement.place("balances", segments, members(nodes));

                assertThat(placement).hasSize(segments);
                assertThat(placement.keySet()).containsExactlyElementsOf(IntStream.range(0, segments).boxed()
                        .toList());
                Map<String, Integer> loads = loads(placement);
                int most = Collections.max(loads.values());
                int least = loads.size() < nodes ? 0 : Collections.min(loads.values());
                assertThat(most - least).as("%d segments on %d members: %s", segments, nodes, loads)
                        .isLessThanOrEqualTo(1);
            }
        }
    }

    @Test
    void eight_segments_on_three_members_spread_three_three_two_for_any_names() {
        for (int run = 0; run < 200; run++) {
            List<Member> three = List.of(member("a" + run), member("b" + run), member("c" + run));

            assertThat(loads(SegmentPlacement.place("projection-" + run, 8, three)).values())
                    .containsExactlyInAnyOrder(3, 3, 2);
        }
    }

    @Test
    void the_placement_does_not_depend_on_the_order_of_members() {
        List<Member> shuffled = new ArrayList<>(members(7));
        Map<Integer, String> expected = SegmentPlacement.place("orders", 64, shuffled);
        for (int i = 0; i < 20; i++) {
            Collections.shuffle(shuffled);
            assertThat(SegmentPlacement.place("orders", 64, shuffled)).isEqualTo(expected);
        }
    }

    @Test
    void a_joining_member_takes_about_its_share_and_little_else_moves() {
        Map<Integer, String> before = SegmentPlacement.place("orders", 64, members(4));
        Map<Integer, String> after = SegmentPlacement.place("orders", 64, members(5));

        long taken = after.values().stream().filter("node-4"::equals).count();
        assertThat(taken).isBetween(12L, 13L);
        // Moves to the newcomer, plus a few where another member's bound changed by one.
        assertThat(moved(before, after)).isLessThanOrEqualTo((int) taken + 6);
    }

    @Test
    void a_leaving_members_segments_go_to_the_others_and_little_else_moves() {
        Map<Integer, String> before = SegmentPlacement.place("orders", 64, members(5));
        Map<Integer, String> after = SegmentPlacement.place("orders", 64, members(4));

        long lost = before.values().stream().filter("node-4"::equals).count();
        assertThat(after).doesNotContainValue("node-4");
        assertThat(moved(before, after)).isLessThanOrEqualTo((int) lost + 6);
    }

    @Test
    void weights_set_the_shares() {
        List<Member> members = List.of(new Member("big", 2, Set.of()), member("small-1"), member("small-2"));

        Map<String, Integer> loads = loads(SegmentPlacement.place("orders", 64, members));

        assertThat(loads.get("big")).isBetween(31, 32);
        assertThat(loads.get("small-1") + loads.get("small-2")).isBetween(32, 33);
    }

    @Test
    void processors_with_the_same_members_are_placed_differently() {
        List<Member> members = members(3);

        assertThat(SegmentPlacement.place("balances", 16, members))
                .isNotEqualTo(SegmentPlacement.place("statements", 16, members));
    }

    @Test
    void no_member_places_nothing_and_bad_input_is_named() {
        assertThat(SegmentPlacement.place("orders", 8, List.of())).isEmpty();
        assertThatThrownBy(() -> SegmentPlacement.place("orders", 0, members(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was 0");
        assertThatThrownBy(() -> SegmentPlacement.place(" ", 8, members(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blank");
        assertThatThrownBy(() -> SegmentPlacement.place("orders", 8, List.of(member("x"), member("x"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'x'");
    }
}
