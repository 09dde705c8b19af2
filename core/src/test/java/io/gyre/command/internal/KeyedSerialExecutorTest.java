package io.gyre.command.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

    private void waitUntilIdle() throws InterruptedException {
        for (int i = 0; i < 200 && executor.activeKeys() > 0; i++) {
            Thread.sleep(10);
        }
    }
}
