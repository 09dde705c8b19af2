package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.StreamId;
import org.junit.jupiter.api.Test;

class KnownStreamHeadsTest {

    private static final StreamId ACC = StreamId.of("Account", "acc");

    @Test
    void an_aggregate_reaches_every_sequence_up_to_its_highest_known_event() {
        KnownStreamHeads heads = new KnownStreamHeads(16);
        assertThat(heads.reaches(ACC, 0)).isFalse();
        heads.advance(ACC, 4);
        assertThat(heads.reaches(ACC, 0)).isTrue();
        assertThat(heads.reaches(ACC, 4)).isTrue();
        assertThat(heads.reaches(ACC, 5)).isFalse();
        assertThat(heads.reaches(StreamId.of("Account", "other"), 0)).isFalse();
    }

    @Test
    void the_same_id_under_another_type_is_another_stream() {
        KnownStreamHeads heads = new KnownStreamHeads(16);
        heads.advance(ACC, 4);
        assertThat(heads.reaches(StreamId.of("Order", "acc"), 0)).isFalse();
    }

    @Test
    void a_lower_sequence_learned_late_never_moves_a_head_back() {
        KnownStreamHeads heads = new KnownStreamHeads(16);
        heads.advance(ACC, 9);
        heads.advance(ACC, 3);
        assertThat(heads.reaches(ACC, 9)).isTrue();
    }

    @Test
    void past_its_capacity_it_forgets_aggregates_instead_of_growing_and_never_claims_more_than_it_learned() {
        KnownStreamHeads heads = new KnownStreamHeads(100);
        for (int i = 0; i < 10_000; i++) {
            heads.advance(StreamId.of("Account", "acc-" + i), i);
            assertThat(heads.size()).isLessThanOrEqualTo(100);
        }
        for (int i = 0; i < 10_000; i++) {
            assertThat(heads.reaches(StreamId.of("Account", "acc-" + i), i + 1)).isFalse();
        }
    }

    @Test
    void after_a_clear_nothing_is_known() {
        KnownStreamHeads heads = new KnownStreamHeads(16);
        heads.advance(ACC, 4);
        heads.clear();
        assertThat(heads.reaches(ACC, 0)).isFalse();
    }

    @Test
    void a_tiny_capacity_is_refused() {
        assertThatThrownBy(() -> new KnownStreamHeads(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
    }
}
