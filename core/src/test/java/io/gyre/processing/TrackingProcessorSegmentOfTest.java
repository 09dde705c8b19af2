package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TrackingProcessorSegmentOfTest {

    @Test
    void an_aggregate_keeps_its_segment_and_every_segment_is_reached() {
        boolean[] reached = new boolean[8];
        for (int i = 0; i < 1_000; i++) {
            int segment = TrackingProcessor.segmentOf("Account", "account-" + i, 8);
            assertThat(segment).isBetween(0, 7).isEqualTo(TrackingProcessor.segmentOf("Account", "account-" + i, 8));
            reached[segment] = true;
        }
        assertThat(reached).containsOnly(true);
        assertThat(TrackingProcessor.segmentOf("Account", "a", 1)).isZero();
    }

    @Test
    void bad_input_is_named() {
        assertThatThrownBy(() -> TrackingProcessor.segmentOf(null, "a", 4)).hasMessageContaining("aggregateType");
        assertThatThrownBy(() -> TrackingProcessor.segmentOf("Account", null, 4)).hasMessageContaining("aggregateId");
        assertThatThrownBy(() -> TrackingProcessor.segmentOf("Account", "a", 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segments");
        assertThatThrownBy(() -> TrackingProcessor.segmentOf("Account", "a", TrackingProcessor.MAX_SEGMENTS + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
