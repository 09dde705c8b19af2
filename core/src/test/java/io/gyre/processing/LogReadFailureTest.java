package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogReadFailureTest {

    @Test
    void a_read_failure_needs_a_cause_a_time_and_at_least_one_failed_read() {
        assertThatThrownBy(() -> new LogReadFailure(null, Instant.EPOCH, 1)).isInstanceOf(NullPointerException.class)
                .hasMessage("cause");
        assertThatThrownBy(() -> new LogReadFailure("x", null, 1)).isInstanceOf(NullPointerException.class)
                .hasMessage("since");
        assertThatThrownBy(() -> new LogReadFailure("x", Instant.EPOCH, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("failures must be 1 or more, but was 0");
    }

    @Test
    void a_processor_that_cannot_read_the_log_is_not_caught_up_whatever_its_segments_say() {
        ProcessorStatus live = new ProcessorStatus("p", ProcessorStatus.Kind.TRACKING, List.of());
        ProcessorStatus failing = new ProcessorStatus("p", ProcessorStatus.Kind.TRACKING, List.of(), null,
                new LogReadFailure("java.lang.IllegalStateException: gone", Instant.EPOCH, 3));
        assertThat(live.caughtUp()).isTrue();
        assertThat(failing.caughtUp()).isFalse();
    }
}
