package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    @Test
    void backoff_grows_exponentially_up_to_the_cap_and_jitter_only_shortens_it() {
        RetryPolicy policy = RetryPolicy.builder().initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(100))
                .multiplier(2).jitter(0.5).build();
        SplittableRandom random = new SplittableRandom(1);
        long[] ceilings = {10, 20, 40, 80, 100, 100};
        for (int attempt = 1; attempt <= ceilings.length; attempt++) {
            for (int i = 0; i < 100; i++) {
                long millis = policy.backoffAfter(attempt, random).toNanos() / 1_000_000;
                assertThat(millis).isBetween(ceilings[attempt - 1] / 2 - 1, ceilings[attempt - 1]);
            }
        }
    }

    @Test
    void without_jitter_the_delay_is_exact() {
        RetryPolicy policy = RetryPolicy.builder().initialBackoff(Duration.ofMillis(10)).jitter(0).multiplier(3).build();
        assertThat(policy.backoffAfter(3, new SplittableRandom())).isEqualTo(Duration.ofMillis(90));
    }

    @Test
    void bad_values_are_refused_naming_them() {
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
                .hasMessage("maxAttempts must be 1 or more, but was 0");
        assertThatThrownBy(() -> RetryPolicy.builder().jitter(1.5)).hasMessage("jitter must be between 0 and 1, but was 1.5");
        assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5))
                .hasMessage("multiplier must be between 1 and 10, but was 0.5");
        assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofMillis(-1)))
                .hasMessageContaining("initialBackoff must be between 0 and 1 minute");
        assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(2))
                .maxBackoff(Duration.ofSeconds(1)).build())
                .hasMessageContaining("must not be below initialBackoff");
        assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
    }
}
