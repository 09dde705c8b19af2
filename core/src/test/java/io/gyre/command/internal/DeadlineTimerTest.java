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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeadlineTimerTest {

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
