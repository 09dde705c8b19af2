package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Balance and movement, measured exactly from the rings (cell counts), for the id sets clusters use. No sampling,
 * no timing: each check is a fact about the ring that holds or not.
 */
class HashRingBalanceTest {

    @ParameterizedTest(name = "{1} equal members, ids {0}")
    @CsvSource({
            "nodes, 3", "nodes, 8", "nodes, 16", "nodes, 64",
            "hosts, 3", "hosts, 8", "hosts, 16", "hosts, 64",
            "uuids-1, 3", "uuids-1, 8", "uuids-1, 16", "uuids-1, 64",
            "uuids-2, 3", "uuids-2, 8", "uuids-2, 16", "uuids-2, 64",
            "uuids-3, 3", "uuids-3, 8", "uuids-3, 16", "uuids-3, 64"})
    void every_member_owns_within_5_percent_of_the_fair_share(String ids, int n) {
        Collection<Double> shares = HashRing.of(1, TestMembers.idSet(ids, n)).ownership().values();

        assertThat(Collections.max(shares) * n).isLessThanOrEqualTo(1.05);
        assertThat(Collections.min(shares) * n).isGreaterThanOrEqualTo(0.95);
    }

    @ParameterizedTest(name = "weight 2 among {1} members, ids {0}")
    @CsvSource({"nodes, 3", "nodes, 8", "nodes, 16", "hosts, 8", "uuids-1, 8", "uuids-2, 16", "uuids-3, 3"})
    void a_member_of_twice_the_weight_owns_twice_the_share(String ids, int n) {
        List<Member> members = new ArrayList<>(TestMembers.idSet(ids, n));
        Member heavy = members.get(0);
        members.set(0, new Member(heavy.id(), 2, heavy.aggregateTypes()));

        Map<String, Double> ownership = HashRing.of(1, members).ownership();
        double heavyShare = ownership.get(heavy.id());
        double lightAverage = (1 - heavyShare) / (n - 1);

        assertThat(heavyShare / (2.0 / (n + 1))).isBetween(0.95, 1.05);
        assertThat(heavyShare / lightAverage).isBetween(1.9, 2.1);
    }

    @ParameterizedTest(name = "{1} + 1 members, ids {0}")
    @CsvSource({"nodes, 3", "nodes, 8", "nodes, 16", "nodes, 64", "uuids-1, 3", "uuids-1, 8", "uuids-1, 16",
            "uuids-1, 64", "hosts, 16"})
    void a_join_moves_at_most_105_percent_of_the_ideal_all_to_the_joiner(String ids, int n) {
        List<Member> before = TestMembers.idSet(ids, n + 1).subList(0, n);
        List<Member> after = TestMembers.idSet(ids, n + 1);
        String joiner = after.get(n).id();

        RingDiff diff = RingDiff.between(HashRing.of(1, before), HashRing.of(2, after));

        assertThat(diff.movedFraction() * (n + 1)).isLessThanOrEqualTo(1.05);
        assertThat(diff.movedRanges()).isNotEmpty().allSatisfy(r -> assertThat(r.to()).isEqualTo(joiner));
    }

    @ParameterizedTest(name = "{1} - 1 members, ids {0}")
    @CsvSource({"nodes, 3", "nodes, 8", "nodes, 16", "nodes, 64", "uuids-2, 3", "uuids-2, 8", "uuids-2, 16",
            "uuids-2, 64", "hosts, 64"})
    void a_leave_moves_at_most_105_percent_of_the_ideal_all_from_the_leaver(String ids, int n) {
        List<Member> before = TestMembers.idSet(ids, n);
        String leaver = before.get(n / 2).id();
        List<Member> after = new ArrayList<>(before);
        after.remove(n / 2);

        RingDiff diff = RingDiff.between(HashRing.of(1, before), HashRing.of(2, after));

        assertThat(diff.movedFraction() * n).isLessThanOrEqualTo(1.05);
        assertThat(diff.movedRanges()).isNotEmpty().allSatisfy(r -> assertThat(r.from()).isEqualTo(leaver));
    }

    @ParameterizedTest(name = "{0} members")
    @CsvSource({"3", "8", "16", "64"})
    void members_handling_a_type_share_it_as_evenly_as_a_ring_of_only_them(int n) {
        List<Member> members = new ArrayList<>(TestMembers.nodes(n));
        members.add(new Member("auditor", 1, Set.of("Audit")));

        Collection<Double> shares = new ArrayList<>(HashRing.of(1, members).ownership(TestMembers.COMMAND).values());
        shares.remove(0.0);

        assertThat(shares).hasSize(n);
        assertThat(Collections.max(shares) * n).isLessThanOrEqualTo(1.05);
    }
}
