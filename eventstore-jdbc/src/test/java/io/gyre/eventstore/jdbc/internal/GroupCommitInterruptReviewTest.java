package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Review of {@link GroupCommit#submit}: a waiting caller that writes may write other callers' batches before its own
 * (those queued ahead of it, or behind it while another writer has its own). An interrupt that reaches it while it
 * writes (a web request cancelled, {@code shutdownNow}) cannot be kept out of that write, but it must be the last
 * one: "an interrupted caller never writes itself", since an interrupt can fail a JDBC call for the whole batch (a
 * pool's wait for a connection, an embedded database's file channel), which then fails other callers' appends too.
 */
class GroupCommitInterruptReviewTest {

    private static final int CALLERS = 6;
    private static final int ROUNDS = 400;

    @Test
    void a_caller_interrupted_while_it_writes_writes_no_further_batch() throws Exception {
        Set<Thread> callers = ConcurrentHashMap.newKeySet();
        List<String> enteredInterrupted = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger written = new AtomicInteger();
        GroupCommit.Flush<Integer> flush = batch -> {
            Thread thread = Thread.currentThread();
            if (thread.isInterrupted()) {
                enteredInterrupted.add(thread.getName() + " wrote " + batch);
            }
            if (callers.contains(thread)) {
                thread.interrupt(); // the interrupt lands while this caller writes
            }
            busy(50);
            written.addAndGet(batch.size());
            List<@Nullable RuntimeException> outcomes = new ArrayList<>();
            batch.forEach(request -> outcomes.add(null));
            return outcomes;
        };
        GroupCommit<Integer> commit = new GroupCommit<>(flush, 1, 2);
        CyclicBarrier start = new CyclicBarrier(CALLERS);
        AtomicInteger next = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            Thread caller = new Thread(() -> {
                for (int round = 0; round < ROUNDS; round++) {
                    Thread.interrupted(); // an interrupt from the last round's write
                    try {
                        start.await(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    commit.submit(next.incrementAndGet());
                    commit.submitAsync(-next.incrementAndGet()); // others' requests queued behind
                }
                Thread.interrupted();
            }, "caller-" + c);
            callers.add(caller);
            threads.add(caller);
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join(TimeUnit.MINUTES.toMillis(2));
            assertThat(thread.isAlive()).as(thread.getName() + " still waiting").isFalse();
        }
        commit.close(java.time.Duration.ofSeconds(10));

        assertThat(written.get()).isEqualTo(2 * CALLERS * ROUNDS);
        assertThat(enteredInterrupted).as("batches written by a caller already interrupted while writing").isEmpty();
    }

    private static void busy(long micros) {
        long end = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(micros);
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
