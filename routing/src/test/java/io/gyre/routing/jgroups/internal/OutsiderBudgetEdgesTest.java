package io.gyre.routing.jgroups.internal;

import static io.gyre.routing.jgroups.internal.OutsiderBudget.ALL_BURST_BYTES;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.ALL_BYTES_PER_SECOND;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.MAX_SENDERS;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.SENDER_BURST_BYTES;
import static io.gyre.routing.jgroups.internal.OutsiderBudget.SENDER_BYTES_PER_SECOND;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/** Review: the budget's clock edges, many threads, and senders that change address to get a fresh burst. */
class OutsiderBudgetEdgesTest {

    private static final int FRAME = 1000;

    @Test
    void a_clock_that_wraps_past_long_max_value_keeps_the_rate() {
        AtomicLong now = new AtomicLong(Long.MAX_VALUE - TimeUnit.SECONDS.toNanos(5));
        OutsiderBudget budget = new OutsiderBudget(now::get);
        Address sender = UUID.randomUUID();
        long admitted = drain(budget, sender);

        for (int tick = 0; tick < 10_000; tick++) { // 10 s, the clock wrapping after 5
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
            admitted += drain(budget, sender);
        }

        assertThat(now.get()).as("wrapped").isNegative();
        assertThat(admitted).isBetween(SENDER_BURST_BYTES + 10 * SENDER_BYTES_PER_SECOND - 2L * FRAME,
                SENDER_BURST_BYTES + 10 * SENDER_BYTES_PER_SECOND + FRAME);
    }

    @Test
    void a_long_idle_spell_refills_to_the_burst_and_no_further() {
        AtomicLong now = new AtomicLong(0);
        OutsiderBudget budget = new OutsiderBudget(now::get);
        Address sender = UUID.randomUUID();
        drain(budget, sender);

        now.addAndGet(TimeUnit.DAYS.toNanos(400));

        assertThat(drain(budget, sender)).isBetween(SENDER_BURST_BYTES, SENDER_BURST_BYTES + FRAME);
    }

    @Test
    void a_clock_going_backwards_earns_nothing() {
        AtomicLong now = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
        OutsiderBudget budget = new OutsiderBudget(now::get);
        Address sender = UUID.randomUUID();
        drain(budget, sender);

        now.addAndGet(-TimeUnit.SECONDS.toNanos(50));
        assertThat(budget.admit(sender, FRAME)).isFalse();
        now.addAndGet(TimeUnit.SECONDS.toNanos(50));
        assertThat(budget.admit(sender, FRAME)).as("back where it was: still nothing earned").isFalse();
    }

    @Test
    void frames_from_many_threads_at_once_get_no_more_than_the_shared_burst_and_one_frame_each_bucket()
            throws Exception {
        OutsiderBudget budget = new OutsiderBudget(() -> 0L); // time stands still: no refill at all
        int threads = 8;
        AtomicLong admitted = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 2_000; i++) {
                    if (budget.admit(UUID.randomUUID(), FRAME)) {
                        admitted.addAndGet(FRAME);
                    }
                }
            });
            thread.start();
            senders.add(thread);
        }
        go.countDown();
        for (Thread thread : senders) {
            thread.join(20_000);
        }

        assertThat(admitted.get()).isBetween(ALL_BURST_BYTES, ALL_BURST_BYTES + FRAME);
        assertThat(budget.senders()).isEqualTo(MAX_SENDERS);
    }

    @Test
    void addresses_made_up_faster_than_they_are_evicted_are_bounded_by_the_shared_rate_over_time() {
        AtomicLong now = new AtomicLong(0);
        OutsiderBudget budget = new OutsiderBudget(now::get);
        long admitted = 0;
        int seconds = 60;
        for (int ms = 0; ms < seconds * 1000; ms++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
            // Ten fresh addresses a millisecond: every sender evicted long before its burst is spent.
            for (int i = 0; i < 10; i++) {
                if (budget.admit(UUID.randomUUID(), FRAME)) {
                    admitted += FRAME;
                }
            }
        }

        assertThat(budget.senders()).isEqualTo(MAX_SENDERS);
        assertThat(admitted).isLessThanOrEqualTo(ALL_BURST_BYTES + ALL_BYTES_PER_SECOND * seconds + FRAME);
    }

    /**
     * The shared bucket is the only bound on made-up addresses, so it is shared with real newcomers too: four
     * addresses each at its own rate (64 KiB/s) keep it empty, and a newcomer whose own bucket is full gets nothing
     * read while it is outside the view (0 of 100 frames here). The budget cannot tell it from a made-up address; the
     * view can, once it holds the newcomer: the newcomer is then told of its dropped frames, once, and sends again
     * what it waits on (NewcomerPastAnOutsiderFloodTest shows it with real channels), while the rogues, never in
     * the view, are never told.
     */
    @Test
    void a_newcomer_crowded_out_by_a_few_outside_senders_is_told_once_the_view_holds_it_and_the_rogues_never_are() {
        AtomicLong now = new AtomicLong(0);
        OutsiderBudget budget = new OutsiderBudget(now::get);
        UnansweredOutsiders outsiders = new UnansweredOutsiders(now::get);
        Address self = UUID.randomUUID();
        View before = View.create(self, 1, self);
        outsiders.onView(before, self);
        List<Address> rogues = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        Address newcomer = UUID.randomUUID();
        int read = 0;
        for (int ms = 1; ms <= 20_000; ms++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
            for (Address rogue : rogues) {
                while (budget.admit(rogue, FRAME)) {
                    continue;
                }
                outsiders.unanswered(rogue, () -> before);
            }
            if (ms > 10_000 && ms % 100 == 0) {
                if (budget.admit(newcomer, FRAME)) {
                    read++;
                } else {
                    outsiders.unanswered(newcomer, () -> before);
                }
            }
        }

        assertThat(read).as("newcomer frames read of 100, outside the view").isLessThan(100);
        assertThat(outsiders.onView(View.create(self, 2, self, newcomer), self)).containsExactly(newcomer);
        assertThat(outsiders.onView(View.create(self, 3, self, newcomer), self)).as("told once").isEmpty();
        assertThat(outsiders.size()).as("the rogues, recorded, never told").isEqualTo(rogues.size());
    }

    private static long drain(OutsiderBudget budget, Address sender) {
        long admitted = 0;
        while (budget.admit(sender, FRAME)) {
            admitted += FRAME;
        }
        return admitted;
    }
}
