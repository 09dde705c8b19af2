package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A coalesced task runs far fewer times than it is asked in a burst, yet every request is followed by a run that
 * starts after it; runs keep their minimum interval; a failing run or a stopped timer stops nothing else.
 */
class CoalescedTaskTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void a_burst_of_requests_from_four_threads_costs_a_few_runs_and_the_last_run_starts_after_the_last_request()
            throws Exception {
        List<Long> starts = new CopyOnWriteArrayList<>();
        CoalescedTask task = recordingStarts(starts, Duration.ofMillis(20));
        AtomicLong lastRequest = new AtomicLong();
        CyclicBarrier together = new CyclicBarrier(4);
        Thread[] threads = new Thread[4];
        long began = System.nanoTime();
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                try {
                    together.await();
                    for (int i = 0; i < 25_000; i++) {
                        // Taken before the request: a run that serves it starts after this.
                        lastRequest.accumulateAndGet(System.nanoTime(), Math::max);
                        task.request();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads[t].start();
        }
        for (Thread each : threads) {
            each.join();
        }
        long burstMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        awaitQuiet(starts);
        assertThat(starts).as("100,000 requests in %d ms", burstMillis).isNotEmpty()
                .hasSizeLessThanOrEqualTo((int) (burstMillis / 20) + 3);
        assertThat(starts.get(starts.size() - 1)).as("a run starts after the last request")
                .isGreaterThan(lastRequest.get());
        for (int i = 1; i < starts.size(); i++) {
            assertThat(starts.get(i) - starts.get(i - 1)).as("interval between runs %d and %d", i - 1, i)
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    @Test
    void a_request_while_a_run_is_under_way_gets_one_more_run_after_it() throws Exception {
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch second = new CountDownLatch(1);
        CoalescedTask task = new CoalescedTask("test", () -> {
            if (runs.incrementAndGet() == 1) {
                firstStarted.countDown();
                await(release);
            } else {
                second.countDown();
            }
        }, timer, Duration.ZERO);
        task.request();
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        task.request();
        task.request();
        release.countDown();
        assertThat(second.await(10, TimeUnit.SECONDS)).as("one more run").isTrue();
        Thread.sleep(200);
        assertThat(runs).as("the two requests during the first run share the second").hasValue(2);
    }

    @Test
    void the_first_request_after_a_quiet_spell_runs_at_once_and_the_next_waits_for_the_interval() throws Exception {
        List<Long> starts = new CopyOnWriteArrayList<>();
        CoalescedTask task = recordingStarts(starts, Duration.ofMillis(500));
        long asked = System.nanoTime();
        task.request();
        awaitRuns(starts, 1);
        task.request();
        awaitRuns(starts, 2);
        // Only the lower bound is asserted: a loaded machine may run it later, never earlier.
        assertThat(starts.get(1) - starts.get(0)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
        assertThat(starts.get(0)).isGreaterThanOrEqualTo(asked);
    }

    @Test
    void a_failing_run_does_not_stop_later_runs_and_a_stopped_timer_makes_requests_do_nothing() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CoalescedTask task = new CoalescedTask("test", () -> {
            runs.incrementAndGet();
            throw new IllegalStateException("refused");
        }, timer, Duration.ZERO);
        task.request();
        awaitCount(runs, 1);
        task.request();
        awaitCount(runs, 2);
        timer.shutdownNow();
        assertThatCode(task::request).doesNotThrowAnyException();
        assertThatCode(task::request).doesNotThrowAnyException();
        assertThat(runs).hasValue(2);
    }

    @Test
    void a_negative_interval_is_refused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CoalescedTask("test", () -> { }, timer,
                Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-0.001");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until no run has started for 300 ms. */
    private static void awaitQuiet(List<Long> starts) throws InterruptedException {
        for (int seen = -1; seen != starts.size(); ) {
            seen = starts.size();
            Thread.sleep(300);
        }
    }

    private static void awaitRuns(List<Long> starts, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (starts.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(starts).hasSizeGreaterThanOrEqualTo(count);
    }

    private static void awaitCount(AtomicInteger runs, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (runs.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(runs).hasValueGreaterThanOrEqualTo(count);
    }

    /**
     * A task that records each run's start as the task itself clocks it, taken before the work: a start the work
     * noted itself would come late by however long its thread was preempted first (8 ms once on a loaded machine),
     * and the next interval would look that much short of the minimum.
     */
    private CoalescedTask recordingStarts(List<Long> starts, Duration minInterval) {
        AtomicReference<CoalescedTask> self = new AtomicReference<>();
        CoalescedTask task = new CoalescedTask("test", () -> starts.add(self.get().lastStart()), timer, minInterval);
        self.set(task);
        return task;
    }
}
