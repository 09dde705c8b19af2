package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: no request is ever left without a run that starts after it (a lost wake-up), whatever the interleaving of
 * requests with a run's state changes, and two runs never overlap even on a timer of several threads.
 */
class CoalescedTaskRacesTest {

    /** Orders requests and run starts: a run serves the requests whose ticket is below its own. */
    private final AtomicLong tickets = new AtomicLong();
    private final AtomicLong lastRunTicket = new AtomicLong(-1);
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicBoolean overlapped = new AtomicBoolean();
    private final AtomicLong runs = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(3);

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private void run() {
        if (running.incrementAndGet() != 1) {
            overlapped.set(true);
        }
        lastRunTicket.set(tickets.incrementAndGet());
        runs.incrementAndGet();
        if (ThreadLocalRandom.current().nextInt(4) == 0) {
            Thread.yield();
        }
        running.decrementAndGet();
    }

    @Test
    void after_every_burst_of_requests_from_four_threads_a_run_starts_after_the_last_of_them() throws Exception {
        CoalescedTask task = new CoalescedTask("race", this::run, timer, Duration.ZERO);
        int threads = 4;
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicLong[] lastRequest = new AtomicLong[threads];
        List<Thread> requesters = new ArrayList<>();
        int rounds = 2_000;
        CyclicBarrier roundEnd = new CyclicBarrier(threads + 1);
        for (int t = 0; t < threads; t++) {
            AtomicLong mine = lastRequest[t] = new AtomicLong();
            Thread thread = new Thread(() -> {
                try {
                    for (int round = 0; round < rounds; round++) {
                        start.await();
                        for (int i = ThreadLocalRandom.current().nextInt(1, 20); i > 0; i--) {
                            mine.set(tickets.incrementAndGet());
                            task.request();
                            if (ThreadLocalRandom.current().nextBoolean()) {
                                Thread.onSpinWait();
                            }
                        }
                        roundEnd.await();
                        roundEnd.await(); // the checker has seen the run
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            thread.start();
            requesters.add(thread);
        }
        try {
            for (int round = 0; round < rounds; round++) {
                roundEnd.await(20, TimeUnit.SECONDS);
                long lastAsked = 0;
                for (AtomicLong mine : lastRequest) {
                    lastAsked = Math.max(lastAsked, mine.get());
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (lastRunTicket.get() < lastAsked && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertThat(lastRunTicket.get()).as("round %d: a run after the last request (ticket %d)", round,
                        lastAsked).isGreaterThan(lastAsked);
                roundEnd.await(20, TimeUnit.SECONDS);
            }
        } finally {
            for (Thread thread : requesters) {
                thread.interrupt();
                thread.join(5_000);
            }
        }
        assertThat(overlapped).as("two runs at once").isFalse();
        System.out.printf("%d rounds, %d runs%n", rounds, runs.get());
    }

    @Test
    void a_timer_shut_down_gently_runs_a_pending_run_and_later_requests_are_ignored() throws Exception {
        // A timer stopped with shutdown() (not shutdownNow) still runs delayed tasks by default: the task itself must
        // check whether it is still wanted, as RingKeeper's do.
        ScheduledThreadPoolExecutor gentle = new ScheduledThreadPoolExecutor(1);
        AtomicInteger ran = new AtomicInteger();
        CoalescedTask task = new CoalescedTask("gentle", ran::incrementAndGet, gentle, Duration.ofMillis(200));
        task.request(); // runs at once, and sets the 200 ms spacing
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ran.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        task.request(); // pending for up to 200 ms
        gentle.shutdown();
        task.request(); // joins the pending run: nothing to schedule

        assertThat(gentle.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran.get()).as("the pending run ran after shutdown()").isEqualTo(2);
        task.request(); // rejected: the task goes back to idle
        task.request();
        assertThat(ran.get()).isEqualTo(2);
    }
}
