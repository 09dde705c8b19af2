package io.gyre.command.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyedSerialExecutorTest {

    private final ExecutorService pool = Executors.newFixedThreadPool(6);
    private final KeyedSerialExecutor executor = new KeyedSerialExecutor(pool);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void tasks_of_one_key_run_in_submission_order_never_overlapping_while_keys_interleave() throws Exception {
        int keys = 10;
        int perKey = 2_000;
        Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(keys * perKey);
        ExecutorService submitters = Executors.newFixedThreadPool(keys);
        for (int k = 0; k < keys; k++) {
            String key = "key-" + k;
            seen.put(key, new ArrayList<>());
            running.put(key, new AtomicInteger());
            submitters.execute(() -> {
                for (int i = 0; i < perKey; i++) {
                    int value = i;
                    executor.execute(key, () -> {
                        if (running.get(key).incrementAndGet() > 1) {
                            overlaps.incrementAndGet();
                        }
                        seen.get(key).add(value);
                        running.get(key).decrementAndGet();
                        done.countDown();
                    });
                }
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        submitters.shutdown();
        assertThat(overlaps).hasValue(0);
        for (List<Integer> values : seen.values()) {
            assertThat(values).hasSize(perKey).isSorted();
        }
        waitUntilIdle();
        assertThat(executor.activeKeys()).as("mailboxes of idle keys are removed").isZero();
    }

    @Test
    void a_task_that_throws_does_not_strand_the_tasks_behind_it() throws Exception {
        CountDownLatch after = new CountDownLatch(1);
        executor.execute("k", () -> {
            throw new IllegalStateException("expected by the test");
        });
        executor.execute("k", after::countDown);
        assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
    }

    /**
     * The answer of a task (its stage's value) runs once, after the key's turn has ended: with nothing queued the
     * mailbox is gone by then, whether the task finished before it returned or later on another thread (a store's
     * writer).
     */
    @Test
    void an_answer_runs_once_after_its_turn_has_ended_whether_its_task_finished_at_once_or_later() throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            for (boolean later : new boolean[] {false, true}) {
                AtomicInteger answers = new AtomicInteger();
                AtomicInteger activeAtAnswer = new AtomicInteger(-1);
                CountDownLatch answered = new CountDownLatch(1);
                Runnable answer = () -> {
                    activeAtAnswer.set(executor.activeKeys());
                    answers.incrementAndGet();
                    answered.countDown();
                };
                executor.executeAsync("k", () -> later
                        ? CompletableFuture.supplyAsync(() -> answer, writer)
                        : CompletableFuture.completedFuture(answer));
                assertThat(answered.await(10, TimeUnit.SECONDS)).as("answered, later: %s", later).isTrue();
                Thread.sleep(20);
                assertThat(answers).as("answered once, later: %s", later).hasValue(1);
                assertThat(activeAtAnswer).as("no mailbox left when the answer ran, later: %s", later).hasValue(0);
            }
        } finally {
            writer.shutdownNow();
        }
    }

    /**
     * A caller that queues the key's next task from inside the answer (a closed loop: the answer wakes it, and it
     * sends again at once, here without even leaving the answer's thread) loses nothing: every task runs once, in
     * order, never beside another of its key, and every answer runs once, whether tasks finish at once or later.
     */
    @Test
    void a_task_queued_from_inside_the_answer_of_the_one_before_runs_after_it_and_nothing_is_lost() throws Exception {
        int tasks = 2_000;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        List<Integer> ran = new CopyOnWriteArrayList<>();
        AtomicInteger answers = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Runnable> sendNext = new AtomicReference<>();
        AtomicInteger sent = new AtomicInteger();
        sendNext.set(() -> {
            int value = sent.getAndIncrement();
            if (value == tasks) {
                done.countDown();
                return;
            }
            executor.executeAsync("k", () -> {
                if (running.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                ran.add(value);
                Runnable answer = () -> {
                    answers.incrementAndGet();
                    sendNext.get().run();
                };
                if (value % 3 == 0) {
                    return CompletableFuture.supplyAsync(() -> {
                        running.decrementAndGet();
                        return answer;
                    }, writer);
                }
                running.decrementAndGet();
                return CompletableFuture.completedFuture(answer);
            });
            if (value % 5 == 0) {
                // Other senders' tasks of the same key queue up beside the closed loop meanwhile.
                executor.execute("k", () -> {
                    if (running.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    running.decrementAndGet();
                });
            }
        });
        try {
            sendNext.get().run();
            assertThat(done.await(30, TimeUnit.SECONDS)).as("every task answered, %s of %s", answers.get(), tasks)
                    .isTrue();
        } finally {
            writer.shutdownNow();
        }
        assertThat(ran).hasSize(tasks).isSorted();
        assertThat(answers).hasValue(tasks);
        assertThat(overlaps).hasValue(0);
        waitUntilIdle();
        assertThat(executor.activeKeys()).isZero();
    }

    /**
     * A task queued while the task before it is still finishing starts only after that task's answer has run, never
     * before it (its receiver would otherwise hear of a later task before its own), and its own answer comes once.
     */
    @Test
    void a_task_queued_while_its_predecessor_finishes_starts_after_the_predecessors_answer() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Runnable> first = new CompletableFuture<>();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch secondAnswered = new CountDownLatch(1);
        executor.executeAsync("k", () -> {
            events.add("first started");
            firstStarted.countDown();
            return first;
        });
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        executor.executeAsync("k", () -> {
            events.add("second started");
            return CompletableFuture.completedFuture(() -> {
                events.add("second answered");
                secondAnswered.countDown();
            });
        });
        first.complete(() -> events.add("first answered"));
        assertThat(secondAnswered.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(20);
        assertThat(events).containsExactly("first started", "first answered", "second started", "second answered");
    }

    private void waitUntilIdle() throws InterruptedException {
        for (int i = 0; i < 200 && executor.activeKeys() > 0; i++) {
            Thread.sleep(10);
        }
    }
}
