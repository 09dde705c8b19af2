package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SegmentEpochTest {

    @Test
    void the_incarnation_outranks_the_view_and_the_view_outranks_the_changes() {
        assertThat(SegmentEpoch.of(10, 0, 0)).isGreaterThan(SegmentEpoch.of(9, SegmentEpoch.MAX_VIEW,
                SegmentEpoch.MAX_CHANGES));
        assertThat(SegmentEpoch.of(10, 5, 0)).isGreaterThan(SegmentEpoch.of(10, 4, SegmentEpoch.MAX_CHANGES));
        assertThat(SegmentEpoch.of(10, 5, 2)).isGreaterThan(SegmentEpoch.of(10, 5, 1));
    }

    @Test
    void epochs_are_positive_and_parts_that_do_not_fit_saturate_instead_of_wrapping() {
        assertThat(SegmentEpoch.of(0, 0, 0)).isEqualTo(1);
        assertThat(SegmentEpoch.of(3, SegmentEpoch.MAX_VIEW + 10, 0)).isEqualTo(SegmentEpoch.of(3,
                SegmentEpoch.MAX_VIEW, 0));
        assertThat(SegmentEpoch.saturates(3, SegmentEpoch.MAX_VIEW + 1, 0)).isTrue();
        assertThat(SegmentEpoch.of(SegmentEpoch.MAX_INCARNATION, SegmentEpoch.MAX_VIEW, SegmentEpoch.MAX_CHANGES))
                .isPositive();
    }

    @Test
    void incarnations_count_seconds_from_2025() {
        assertThat(SegmentEpoch.incarnationOf(SegmentEpoch.ORIGIN.plusSeconds(61))).isEqualTo(61);
        assertThat(SegmentEpoch.incarnationOf(Instant.parse("2024-06-01T00:00:00Z"))).isZero();
    }

    @Test
    void a_node_alone_outranks_every_cluster_epoch_of_its_start_second_and_before_and_a_later_cluster_outranks_it() {
        java.time.Instant start = SegmentEpoch.ORIGIN.plusSeconds(1_000).plusMillis(250);
        long alone = SegmentEpoch.ofNodeAlone(start);
        assertThat(alone).isGreaterThan(SegmentEpoch.of(1_000, SegmentEpoch.MAX_VIEW - 1, SegmentEpoch.MAX_CHANGES));
        assertThat(alone).isGreaterThan(SegmentEpoch.of(999, SegmentEpoch.MAX_VIEW, SegmentEpoch.MAX_CHANGES));
        assertThat(SegmentEpoch.of(1_001, 1, 0)).isGreaterThan(alone);
        assertThat(SegmentEpoch.ofNodeAlone(start.plusMillis(1))).isGreaterThan(alone);
        assertThat(SegmentEpoch.ofNodeAlone(start.plusSeconds(1).minusMillis(300))).isGreaterThan(alone);
    }

    @Test
    void the_incarnation_is_read_back_from_any_epoch() {
        assertThat(SegmentEpoch.incarnationIn(SegmentEpoch.of(1_000, 77, 5))).isEqualTo(1_000);
        assertThat(SegmentEpoch.incarnationIn(SegmentEpoch.of(SegmentEpoch.MAX_INCARNATION, SegmentEpoch.MAX_VIEW,
                SegmentEpoch.MAX_CHANGES))).isEqualTo(SegmentEpoch.MAX_INCARNATION);
        assertThat(SegmentEpoch.incarnationIn(SegmentEpoch.ofNodeAlone(SegmentEpoch.ORIGIN.plusSeconds(42))))
                .isEqualTo(42);
        assertThat(SegmentEpoch.incarnationIn(0)).isZero();
        assertThat(SegmentEpoch.incarnationIn(-5)).isZero();
    }

    @Test
    void every_epoch_of_the_incarnation_to_outrank_lies_above_the_stored_one() {
        long[] stored = {SegmentEpoch.of(1_000, 1, 0), SegmentEpoch.of(1_000, SegmentEpoch.MAX_VIEW,
                SegmentEpoch.MAX_CHANGES), SegmentEpoch.ofNodeAlone(SegmentEpoch.ORIGIN.plusSeconds(1_000)
                .plusMillis(999)), 1};
        for (long epoch : stored) {
            long incarnation = SegmentEpoch.incarnationToOutrank(epoch);
            assertThat(SegmentEpoch.of(incarnation, 0, 0)).as("lowest cluster epoch above %d", epoch)
                    .isGreaterThan(epoch);
        }
        assertThat(SegmentEpoch.incarnationToOutrank(0)).as("nothing stored: no floor").isZero();
        assertThat(SegmentEpoch.incarnationToOutrank(SegmentEpoch.of(SegmentEpoch.MAX_INCARNATION, 3, 0)))
                .as("saturates").isEqualTo(SegmentEpoch.MAX_INCARNATION);
    }

    @Test
    void a_node_alone_starts_above_a_stored_epoch_its_clock_does_not_outrank() {
        java.time.Instant start = SegmentEpoch.ORIGIN.plusSeconds(1_000).plusMillis(250);
        long fromClock = SegmentEpoch.ofNodeAlone(start);
        // Stored by a cluster whose member's clock ran two hours ahead.
        long ahead = SegmentEpoch.of(1_000 + 7_200, 12, 3);

        assertThat(SegmentEpoch.ofNodeAlone(start, 0)).isEqualTo(fromClock);
        assertThat(SegmentEpoch.ofNodeAlone(start, fromClock - 1)).isEqualTo(fromClock);
        assertThat(SegmentEpoch.ofNodeAlone(start, ahead)).isGreaterThan(ahead)
                .isEqualTo(SegmentEpoch.ofNodeAlone(start.plusSeconds(7_201)));
        assertThat(SegmentEpoch.ofNodeAlone(start, fromClock)).as("equal is not enough").isGreaterThan(fromClock);
    }

    @Test
    void bad_input_to_the_store_floor_is_refused_or_read_as_no_floor() {
        org.assertj.core.api.Assertions.assertThatNullPointerException()
                .isThrownBy(() -> SegmentEpoch.ofNodeAlone(null, 0)).withMessage("start");
        assertThat(SegmentEpoch.incarnationToOutrank(-5)).as("a negative stored epoch: none").isZero();
        assertThat(SegmentEpoch.incarnationIn(-5)).isZero();
        LocalSegmentOwnership alone = new LocalSegmentOwnership("node-1", java.time.Clock.systemUTC());
        org.assertj.core.api.Assertions.assertThatNullPointerException()
                .isThrownBy(() -> alone.startAbove(null, 1)).withMessage("processor");
    }
}
