package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Assume;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Consistency of routing for arbitrary memberships: ids, weights, capabilities, order and changes. */
class HashRingPropertiesTest {

    private static final List<String> TYPES = List.of("A", "B", "C");
    private static final List<String> KEYS = TestMembers.keys(300, 42);

    @Property(tries = 100)
    void the_same_members_in_any_order_give_the_same_owners(@ForAll("members") List<Member> members,
                                                           @ForAll long shuffleSeed) {
        List<Member> shuffled = new ArrayList<>(members);
        Collections.shuffle(shuffled, new Random(shuffleSeed));
        HashRing ring = HashRing.of(1, members);
        HashRing other = HashRing.of(1, shuffled);

        for (String type : handledTypes(members)) {
            for (String key : KEYS) {
                assertThat(other.owner(key, type)).isEqualTo(ring.owner(key, type));
            }
        }
        assertThat(RingDiff.between(ring, other).isEmpty()).isTrue();
    }

    @Property(tries = 100)
    void a_join_then_a_leave_restores_every_owner(@ForAll("members") List<Member> members,
                                                 @ForAll("member") Member joiner) {
        List<Member> joined = joined(members, joiner);
        HashRing original = HashRing.of(1, members);
        HashRing afterJoin = HashRing.of(2, joined);
        HashRing afterLeave = HashRing.of(3, members);

        assertThat(RingDiff.between(original, afterLeave).isEmpty()).isTrue();
        for (String type : handledTypes(members)) {
            assertThat(RingDiff.between(original, afterLeave, type).isEmpty()).isTrue();
            for (String key : KEYS) {
                assertThat(afterLeave.owner(key, type)).isEqualTo(original.owner(key, type));
            }
        }
        assertThat(afterJoin.members()).hasSize(members.size() + 1);
    }

    @Property(tries = 100)
    void keys_move_only_to_a_joining_member(@ForAll("members") List<Member> members,
                                            @ForAll("member") Member joiner) {
        HashRing before = HashRing.of(1, members);
        HashRing after = HashRing.of(2, joined(members, joiner));

        assertThat(RingDiff.between(before, after).movedRanges())
                .allSatisfy(r -> assertThat(r.to()).isEqualTo(joiner.id()));
        for (String type : handledTypes(members)) {
            assertThat(RingDiff.between(before, after, type).movedRanges())
                    .allSatisfy(r -> assertThat(r.to()).isEqualTo(joiner.id()));
            for (String key : KEYS) {
                Member owner = after.owner(key, type);
                assertThat(owner.id()).isIn(before.owner(key, type).id(), joiner.id());
            }
        }
    }

    @Property(tries = 100)
    void keys_move_only_from_a_leaving_member(@ForAll("members") List<Member> members,
                                              @ForAll @IntRange(max = 1000) int leaverChoice) {
        Member leaver = members.get(leaverChoice % members.size());
        List<Member> remaining = new ArrayList<>(members);
        remaining.remove(leaver);
        if (remaining.isEmpty()) {
            return;
        }
        HashRing before = HashRing.of(1, members);
        HashRing after = HashRing.of(2, remaining);

        assertThat(RingDiff.between(before, after).movedRanges())
                .allSatisfy(r -> assertThat(r.from()).isEqualTo(leaver.id()));
        for (String type : handledTypes(remaining)) {
            for (String key : KEYS) {
                String previous = before.owner(key, type).id();
                if (!previous.equals(leaver.id())) {
                    assertThat(after.owner(key, type).id()).isEqualTo(previous);
                }
            }
        }
    }

    @Property(tries = 200)
    void a_member_never_owns_a_key_for_a_type_it_cannot_handle(@ForAll("members") List<Member> members,
                                                              @ForAll("aggregateType") String type) {
        HashRing ring = HashRing.of(1, members);

        if (handledTypes(members).contains(type)) {
            for (String key : KEYS) {
                assertThat(ring.owner(key, type).hosts(type)).isTrue();
            }
            ring.ownership(type).forEach((id, share) -> {
                boolean handles = members.stream().filter(m -> m.id().equals(id)).allMatch(m -> m.hosts(type));
                assertThat(share > 0).isEqualTo(handles);
            });
        } else {
            assertThatThrownBy(() -> ring.owner("acc-1", type))
                    .isInstanceOf(NoEligibleMemberException.class)
                    .hasMessageContaining("'" + type + "'");
        }
    }

    @Property(tries = 100)
    void the_diff_agrees_with_comparing_owners(@ForAll("members") List<Member> older,
                                              @ForAll("members") List<Member> newer) {
        HashRing a = HashRing.of(1, older);
        HashRing b = HashRing.of(2, newer);
        RingDiff diff = RingDiff.between(a, b);
        HashRing aAll = withAllTypes(a);
        HashRing bAll = withAllTypes(b);

        for (String key : KEYS) {
            String before = aAll.owner(key, "all").id();
            String after = bAll.owner(key, "all").id();
            MovedRange range = diff.movedRangeOf(key);
            if (before.equals(after)) {
                assertThat(range).isNull();
            } else {
                assertThat(range).isNotNull();
                assertThat(range.from()).isEqualTo(before);
                assertThat(range.to()).isEqualTo(after);
            }
            assertThat(diff.movedAway(key, before)).isEqualTo(!before.equals(after));
        }
    }

    @Property(tries = 30)
    void random_uuid_members_own_within_5_percent_of_the_fair_share(
            @ForAll("clusterSize") int n, @ForAll long seed) {
        HashRing ring = HashRing.of(1, TestMembers.uuids(n, seed));

        assertThat(Collections.max(ring.ownership().values()) * n).isLessThanOrEqualTo(1.05);
    }

    // The same members, each handling the single type "all": the owners that RingDiff.between(a, b) compares.
    private static HashRing withAllTypes(HashRing ring) {
        return HashRing.of(ring.version(), ring.members().stream()
                .map(m -> new Member(m.id(), m.weight(), Set.of("all"))).toList());
    }

    private static List<Member> joined(List<Member> members, Member joiner) {
        Assume.that(members.stream().noneMatch(m -> m.id().equals(joiner.id())));
        List<Member> joined = new ArrayList<>(members);
        joined.add(joiner);
        return joined;
    }

    private static Set<String> handledTypes(List<Member> members) {
        Set<String> types = new TreeSet<>();
        members.forEach(m -> types.addAll(m.aggregateTypes()));
        return types;
    }

    @Provide
    Arbitrary<List<Member>> members() {
        return member().list().ofMinSize(1).ofMaxSize(10).uniqueElements(Member::id);
    }

    @Provide
    Arbitrary<Member> member() {
        Arbitrary<String> ids = Arbitraries.oneOf(
                Arbitraries.integers().between(1, 40).map(i -> "node-" + i),
                Arbitraries.longs().map(l -> new java.util.UUID(l, ~l).toString()),
                Arbitraries.strings().withCharRange('a', 'z').withChars('-', 'é', '节').ofMinLength(1)
                        .ofMaxLength(12));
        Arbitrary<Integer> weights = Arbitraries.integers().between(1, 3);
        Arbitrary<Set<String>> types = Arbitraries.of(TYPES).set().ofMaxSize(3);
        return Combinators.combine(ids, weights, types).as(Member::new).filter(Objects::nonNull);
    }

    @Provide
    Arbitrary<String> aggregateType() {
        return Arbitraries.of("A", "B", "C", "Unknown");
    }

    @Provide
    Arbitrary<Integer> clusterSize() {
        return Arbitraries.of(3, 8, 16, 64);
    }
}
