package io.gyre.command.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeadlineTimerTest {

    /** The most tasks the preemption test lets wait for the timer, so that a late task is one that missed its tick. */
    private static final int MAX_BACKLOG = 10_000;

    private final String name = "deadline-timer-test-" + System.nanoTime();
    private final DeadlineTimer timer = new DeadlineTimer(name);

    @AfterEach
    void close() {
        timer.close();
    }

    @Test
    void a_task_runs_once_its_deadline_has_passed_and_not_before() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long[] ranAt = new long[1];
        timer.schedule(deadline, () -> {
            ranAt[0] = System.nanoTime();
            ran.countDown();
        });

        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ranAt[0]).isGreaterThanOrEqualTo(deadline);
    }

    @Test
    void a_cancelled_task_never_runs() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        DeadlineTimer.Timeout timeout = timer.schedule(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30),
                runs::incrementAndGet);
        timeout.cancel();
        timeout.cancel();

        Thread.sleep(150);
        assertThat(runs).hasValue(0);
    }

    @Test
    void an_idle_timer_parks_its_thread_instead_of_ticking() throws Exception {
        timer.schedule(System.nanoTime() + TimeUnit.SECONDS.toNanos(60), () -> { }).cancel();

        Thread thread = timerThread();
        awaitState(thread, Thread.State.WAITING, Duration.ofSeconds(5));
    }

    @Test
    void tasks_scheduled_across_idle_periods_from_many_threads_each_run_exactly_once() throws Exception {
        int threads = 4;
        int perThread = 2_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(threads * perThread);
        CountDownLatch all = new CountDownLatch(threads * perThread);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * perThread;
            Thread sender = new Thread(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < perThread; i++) {
                    int index = base + i;
                    // Deadlines from already passed to 20 ms ahead, with pauses long enough for the wheel to empty
                    // and the timer to park, so schedules race its going idle and waking.
                    long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(random.nextLong(-1_000, 20_000));
                    timer.schedule(deadline, () -> {
                        runs.incrementAndGet(index);
                        all.countDown();
                    });
                    if (random.nextInt(200) == 0) {
                        sleepQuietly(random.nextInt(10, 40));
                    }
                }
            });
            senders.add(sender);
            sender.start();
        }
        for (Thread sender : senders) {
            sender.join();
        }

        assertThat(all.await(30, TimeUnit.SECONDS)).as("every task ran").isTrue();
        Thread.sleep(50);
        for (int i = 0; i < runs.length(); i++) {
            assertThat(runs.get(i)).as("runs of task %d", i).isEqualTo(1);
        }
        awaitState(timerThread(), Thread.State.WAITING, Duration.ofSeconds(5));
    }

    @Test
    void a_task_scheduled_after_a_long_idle_period_still_runs_on_time() throws Exception {
        timer.schedule(System.nanoTime(), () -> { });
        awaitState(timerThread(), Thread.State.WAITING, Duration.ofSeconds(5));
        Thread.sleep(300);

        CountDownLatch ran = new CountDownLatch(1);
        long scheduledAt = System.nanoTime();
        timer.schedule(scheduledAt + TimeUnit.MILLISECONDS.toNanos(20), ran::countDown);

        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void a_task_scheduled_by_a_thread_preempted_on_its_way_to_the_wheel_still_runs_on_time() throws Exception {
        // More busy threads than processors, so that schedulers are preempted at every point of schedule(), also
        // between choosing a bucket and entering it, and stay off the processor for several ticks. A task that then
        // entered a bucket the timer had just passed waited a whole turn of the wheel (2.56 s) for its next visit:
        // a retry meant for 1 ms later ran 2.5 s later, seen as a gateway that made 1 attempt in 2 s under load.
        int schedulers = Math.max(12, 6 * Runtime.getRuntime().availableProcessors());
        AtomicLong scheduled = new AtomicLong();
        AtomicLong ran = new AtomicLong();
        AtomicLong latest = new AtomicLong();
        long stopAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < schedulers; t++) {
            Thread scheduler = new Thread(() -> {
                while (System.nanoTime() - stopAt < 0) {
                    if (scheduled.get() - ran.get() > MAX_BACKLOG) {
                        // The timer's thread has as little of the processor as each scheduler: unbounded, the tasks
                        // it has yet to run (3 million in 1.5 s on one CPU) would delay the last ones by seconds
                        // without any of them missing its tick.
                        Thread.yield();
                        continue;
                    }
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
                    AtomicLong returned = new AtomicLong(Long.MAX_VALUE);
                    scheduled.incrementAndGet();
                    timer.schedule(deadline, () -> {
                        // Late counts from when schedule() returned: a scheduler preempted before it reached the
                        // wheel delays its own task, which no timer can help.
                        long from = Math.max(deadline, Math.min(returned.get(), System.nanoTime()));
                        latest.accumulateAndGet(System.nanoTime() - from, Math::max);
                        ran.incrementAndGet();
                    });
                    returned.set(System.nanoTime());
                }
            });
            threads.add(scheduler);
            scheduler.start();
        }
        for (Thread scheduler : threads) {
            scheduler.join();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ran.get() < scheduled.get() && System.nanoTime() - end < 0) {
            Thread.sleep(5);
        }

        assertThat(ran).as("tasks run").hasValue(scheduled.get());
        // A loaded machine delays the timer's thread too, but by far less than a turn of the wheel.
        assertThat(TimeUnit.NANOSECONDS.toMillis(latest.get()))
                .as("the latest task's delay past its deadline and its schedule's return, ms, of %,d", scheduled.get())
                .isLessThan(1_500);
    }

    private Thread timerThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow();
    }

    private static void awaitState(Thread thread, Thread.State state, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (thread.getState() != state && System.nanoTime() - end < 0) {
            Thread.sleep(5);
        }
        assertThat(thread.getState()).as("state of %s", thread.getName()).isEqualTo(state);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
