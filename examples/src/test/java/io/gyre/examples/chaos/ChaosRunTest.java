package io.gyre.examples.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The chaos run at a size that fits in {@code mvn verify}: three node processes on embedded PostgreSQL, one
 * killed with SIGKILL and restarted, one stopped gracefully and restarted, the database down for ten seconds,
 * clients moving money through random nodes the whole time. Longer soaks: {@link ChaosRun#main}.
 */
class ChaosRunTest {

    @Test
    void nothing_acknowledged_is_lost_nothing_is_doubled_no_balance_goes_negative_and_money_is_conserved()
            throws Exception {
        ChaosReport report = ChaosRun.run(new ChaosRun.Settings(Duration.ofSeconds(30), 3, 30, 6, 1_000,
                Duration.ofSeconds(10)));
        System.out.println(report.summary());
        report.details().forEach(System.out::println);

        assertThat(report.lost()).as("acknowledged commands lost").isZero();
        assertThat(report.duplicated()).as("commands stored twice").isZero();
        assertThat(report.unknown()).as("stored commands nobody sent").isZero();
        assertThat(report.gaps()).as("streams with gaps").isZero();
        assertThat(report.negative()).as("negative balances").isZero();
        assertThat(report.conserved()).as("total conserved").isTrue();
        assertThat(report.failed()).as("commands clients gave up on: " + report.details()).isZero();
        assertThat(report.acked()).as("commands acknowledged").isGreaterThan(100);
    }
}
