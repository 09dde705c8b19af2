package io.gyre.processing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SegmenterTest {

    @Test
    void the_hash_is_xxh64_of_type_a_zero_byte_and_id_so_stored_segments_never_move() {
        byte[] key = "Account\0acc-1".getBytes(StandardCharsets.UTF_8);

        assertThat(Segmenter.hash("Account", "acc-1")).isEqualTo(Xxh64.hash(key, 0, key.length, 0));
        // Pinned: a change here moves aggregates between segments and breaks every stored token.
        assertThat(Segmenter.segmentOf("Account", "acc-1", 8)).isEqualTo(
                (int) Long.remainderUnsigned(Xxh64.hash(key, 0, key.length, 0), 8));
    }

    @Test
    void type_and_id_are_kept_apart_so_shifting_characters_between_them_gives_another_key() {
        assertThat(Segmenter.hash("ab", "c")).isNotEqualTo(Segmenter.hash("a", "bc"));
        assertThat(Segmenter.hash("Account", "1")).isNotEqualTo(Segmenter.hash("Order", "1"));
    }

    @Test
    void aggregates_spread_evenly_over_segments() {
        int segments = 16;
        int[] counts = new int[segments];
        int aggregates = 160_000;
        for (int i = 0; i < aggregates; i++) {
            counts[Segmenter.segmentOf("Account", "acc-" + i, segments)]++;
        }
        for (int count : counts) {
            assertThat(count).isBetween(aggregates / segments * 95 / 100, aggregates / segments * 105 / 100);
        }
    }

    @Test
    void keys_with_characters_outside_ascii_hash_their_utf8_bytes_too() {
        for (String id : new String[] {"é", "konto-ünd-€", "😀-1", "a".repeat(300) + "é", "x".repeat(400)}) {
            byte[] key = ("Account\0" + id).getBytes(StandardCharsets.UTF_8);

            assertThat(Segmenter.hash("Account", id)).as(id).isEqualTo(Xxh64.hash(key, 0, key.length, 0));
        }
    }
}
