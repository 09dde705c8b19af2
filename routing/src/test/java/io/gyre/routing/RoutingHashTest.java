package io.gyre.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.routing.internal.VirtualNodes;
import io.gyre.routing.internal.XxHash64;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden values: where keys and members land, pinned so that any change of placement (hash, seed, point
 * derivation, cell count) fails here. Such a change is a breaking change for a cluster that runs mixed versions.
 */
class RoutingHashTest {

    @ParameterizedTest(name = "hash(\"{0}\") = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                                   | df3231c3d008ac89
            acc-1                                | b0029e9c2f3e3025
            order-42                             | 4ccc3adddeb9f099
            über-konto                           | 942622e84d874380
            账户-7                                | 010ece8d8ff50cd9
            😀-emoji                             | 1b1fec765f422d21
            123e4567-e89b-12d3-a456-426614174000 | 08cd47815116bf84
            """)
    void routing_keys_hash_to_pinned_values(String key, String expectedHex) {
        assertThat(RoutingHash.hash(key)).isEqualTo(Long.parseUnsignedLong(expectedHex, 16));
    }

    @Test
    void the_routing_hash_is_xxh64_of_the_utf8_bytes_with_the_gyre_seed() {
        byte[] bytes = "über-konto".getBytes(StandardCharsets.UTF_8);

        assertThat(RoutingHash.hash("über-konto"))
                .isEqualTo(XxHash64.hash(bytes, 0, bytes.length, RoutingHash.SEED))
                .isEqualTo(RoutingHash.hash(new StringBuilder("über-").append("konto")));
    }

    @Test
    void a_null_key_is_refused() {
        assertThatThrownBy(() -> RoutingHash.hash(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("routingKey must not be null");
    }

    @Test
    void member_points_are_pinned() {
        long base = VirtualNodes.base("node-1");

        assertThat(base).isEqualTo(0x1ef7fa5b7b5c9b08L);
        assertThat(VirtualNodes.point(base, 0)).isEqualTo(0xebdf1da3e7bb0000L);
        assertThat(VirtualNodes.point(base, 8191)).isEqualTo(0x3bedcfe7a1cb0000L);
    }

    @Test
    void owners_in_a_small_cluster_are_pinned() {
        List<Member> members = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            members.add(new Member("node-" + i, i == 3 ? 2 : 1, Set.of("C")));
        }
        HashRing ring = HashRing.of(1, members);

        assertThat(List.of("acc-1", "acc-2", "acc-3", "acc-4", "acc-6", "über-konto"))
                .extracting(key -> ring.owner(key, "C").id())
                .containsExactly("node-1", "node-2", "node-2", "node-3", "node-2", "node-3");
        assertThat(ring.ownership()).containsExactly(
                org.assertj.core.api.Assertions.entry("node-1", 0.16459178924560547),
                org.assertj.core.api.Assertions.entry("node-2", 0.16977500915527344),
                org.assertj.core.api.Assertions.entry("node-3", 0.33123111724853516),
                org.assertj.core.api.Assertions.entry("node-4", 0.16718673706054688),
                org.assertj.core.api.Assertions.entry("node-5", 0.16721534729003906));
    }
}
