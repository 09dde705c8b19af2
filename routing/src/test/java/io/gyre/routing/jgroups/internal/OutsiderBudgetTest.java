package io.gyre.routing.jgroups.internal;

import static io.gyre.routing.jgroups.internal.OutsiderBudget.ALL_BURST_BYTES;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.MAX_SENDERS;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.SENDER_BURST_BYTES;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.SENDER_BYTES_PER_SECOND;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

class OutsiderBudgetTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final OutsiderBudget budget = new OutsiderBudget(now::get);

    /** @return the bytes admitted from one sender, in frames of a given size, until one is dropped */
    private long admitUntilDropped(Address from, int frame) {
        long admitted = 0;
        while (budget.admit(from, frame)) {
            admitted += frame;
            assertThat(admitted).as("admitted without end").isLessThan(100L * ALL_BURST_BYTES);
        }
        return admitted;
    }

    @Test
    void a_sender_gets_its_burst_and_then_its_rate_and_nothing_more() {
        Address rogue = UUID.randomUUID();
        int frame = 1000;

        long burst = admitUntilDropped(rogue, frame);
        assertThat(burst).isBetween(SENDER_BURST_BYTES, SENDER_BURST_BYTES + frame);
        assertThat(budget.admit(rogue, frame)).as("no time passed").isFalse();

        long admitted = 0;
        for (int tick = 0; tick < 10_000; tick++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
            while (budget.admit(rogue, frame)) {
                admitted += frame;
            }
        }
        // Ten seconds at the rate, give or take the frame the bucket may owe.
        assertThat(admitted).isBetween(10 * SENDER_BYTES_PER_SECOND - 2L * frame, 10 * SENDER_BYTES_PER_SECOND
                + frame);
    }

    @Test
    void a_frame_larger_than_the_burst_is_read_from_a_full_bucket_and_then_owed() {
        Address newcomer = UUID.randomUUID();
        int large = (int) (3 * SENDER_BURST_BYTES);

        assertThat(budget.admit(newcomer, large)).isTrue();
        assertThat(budget.admit(newcomer, 1)).as("in debt").isFalse();
        now.addAndGet(TimeUnit.SECONDS.toNanos((large - SENDER_BURST_BYTES) / SENDER_BYTES_PER_SECOND) - 1);
        assertThat(budget.admit(newcomer, 1)).as("still in debt").isFalse();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(budget.admit(newcomer, 1)).as("debt paid").isTrue();
    }

    @Test
    void senders_have_budgets_of_their_own_until_all_of_them_together_are_over_the_shared_one() {
        Address first = UUID.randomUUID();
        admitUntilDropped(first, 1000);

        assertThat(budget.admit(UUID.randomUUID(), 1000)).as("another sender").isTrue();

        long forged = 0;
        for (int i = 0; i < 1000; i++) {
            forged += admitUntilDropped(UUID.randomUUID(), 1000);
        }
        assertThat(forged + SENDER_BURST_BYTES).as("made-up addresses get the shared burst between them")
                .isLessThanOrEqualTo(ALL_BURST_BYTES + 2 * 1000);
    }

    @Test
    void the_senders_kept_are_bounded_however_many_addresses_send() {
        for (int i = 0; i < 5 * MAX_SENDERS; i++) {
            budget.admit(UUID.randomUUID(), 1);
            now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        }

        assertThat(budget.senders()).isEqualTo(MAX_SENDERS);
    }
}
