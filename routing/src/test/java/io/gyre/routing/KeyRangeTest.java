package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeyRangeTest {

    @Test
    void bounds_are_inclusive_and_unsigned() {
        KeyRange upperHalf = new KeyRange(0x8000_0000_0000_0000L, -1L);

        assertThat(upperHalf.contains(0x8000_0000_0000_0000L)).isTrue();
        assertThat(upperHalf.contains(-1L)).isTrue();
        assertThat(upperHalf.contains(0x7FFF_FFFF_FFFF_FFFFL)).isFalse();
        assertThat(upperHalf.contains(0)).isFalse();
        assertThat(upperHalf.fraction()).isEqualTo(0.5);
    }

    @Test
    void the_whole_space_is_one_range() {
        KeyRange all = new KeyRange(0, -1L);

        assertThat(all.fraction()).isEqualTo(1.0);
        assertThat(all.containsKey("anything")).isTrue();
    }

    @Test
    void a_single_hash_is_a_range() {
        KeyRange one = new KeyRange(42, 42);

        assertThat(one.contains(42)).isTrue();
        assertThat(one.contains(43)).isFalse();
        assertThat(one.fraction()).isEqualTo(0x1p-64);
    }

    @Test
    void a_range_that_would_wrap_is_refused_naming_both_bounds() {
        assertThatThrownBy(() -> new KeyRange(-1L, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("last must not be below first (unsigned), but was first=0xffffffffffffffff, "
                        + "last=0x0000000000000000");
    }

    @Test
    void contains_key_uses_the_routing_hash() {
        long hash = RoutingHash.hash("acc-1");

        assertThat(new KeyRange(hash, hash).containsKey("acc-1")).isTrue();
        assertThat(new KeyRange(hash, hash).containsKey("acc-2")).isFalse();
    }

    @Test
    void prints_bounds_in_hex() {
        assertThat(new KeyRange(0x10, 0xFF)).hasToString("KeyRange[0x0000000000000010..0x00000000000000ff]");
    }
}
