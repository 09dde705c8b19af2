package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemberTest {

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 101, Integer.MIN_VALUE})
    void a_weight_out_of_range_is_refused_naming_the_value(int weight) {
        assertThatThrownBy(() -> new Member("node-1", weight, Set.of("A")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("weight must be between 1 and 100, but was " + weight);
    }

    @Test
    void the_weight_limits_are_accepted() {
        assertThat(new Member("node-1", 1, Set.of()).weight()).isEqualTo(1);
        assertThat(new Member("node-1", 100, Set.of()).weight()).isEqualTo(100);
    }

    @Test
    void a_blank_id_is_refused() {
        assertThatThrownBy(() -> new Member(" \t", 1, Set.of("A")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id must not be blank, but was ' \t'");
    }

    @Test
    void a_null_id_is_refused() {
        assertThatThrownBy(() -> new Member(null, 1, Set.of("A")))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("id must not be null");
    }

    @Test
    void null_command_types_are_refused_naming_the_member() {
        assertThatThrownBy(() -> new Member("node-1", 1, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("aggregateTypes of member 'node-1' must not be null");
        assertThatThrownBy(() -> new Member("node-1", 1, new HashSet<>(Arrays.asList("A", null))))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("aggregateTypes of member 'node-1' must not contain null");
    }

    @Test
    void a_blank_command_type_is_refused_naming_the_member() {
        assertThatThrownBy(() -> new Member("node-1", 1, Set.of("A", " ")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("aggregateTypes of member 'node-1' must not contain a blank type, but had ' '");
    }

    @Test
    void command_types_are_copied_sorted_and_unmodifiable() {
        Set<String> types = new HashSet<>(Set.of("Withdraw", "Deposit", "Open"));
        Member member = new Member("node-1", 1, types);
        types.add("Close");

        assertThat(member.aggregateTypes()).containsExactly("Deposit", "Open", "Withdraw");
        assertThatThrownBy(() -> member.aggregateTypes().add("Close")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(member.hosts("Open")).isTrue();
        assertThat(member.hosts("Close")).isFalse();
    }

    @Test
    void members_with_the_same_fields_are_equal() {
        assertThat(new Member("a", 2, Set.of("X", "Y"))).isEqualTo(new Member("a", 2, new HashSet<>(Set.of("Y", "X"))));
        assertThat(new Member("a", 2, Set.of("X"))).isNotEqualTo(new Member("a", 1, Set.of("X")));
    }
}
