package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Review of {@link GroupCommit#close} racing with callers that write their own batches ({@link GroupCommit#submit})
 * and with writer threads: every request ends exactly once, no caller hangs, a request reported "not written" never
 * reached the flush, and one the flush wrote is never reported "not written".
 */
class GroupCommitCloseRaceReviewTest {

    private static final int CALLERS = 6;

    /** The closing failure, with what close() said about the request. */
    private static final class Closed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final boolean maybeWritten;

        Closed(boolean maybeWritten) {
            super(maybeWritten ? "maybe written" : "not written", null, false, false);
            this.maybeWritten = maybeWritten;
        }
    }

    @RepeatedTest(20)
    void a_close_racing_with_writing_callers_ends_every_request_once_and_reports_not_written_only_for_unwritten()
            throws Exception {
        Set<Integer> flushed = ConcurrentHashMap.newKeySet();
        GroupCommit.Flush<Integer> flush = batch -> {
            flushed.addAll(batch); // from here on, a request may be written
            long end = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(ThreadLocalRandom.current().nextInt(400));
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            List<@Nullable RuntimeException> outcomes = new ArrayList<>();
            batch.forEach(request -> outcomes.add(null));
            return outcomes;
        };
        GroupCommit<Integer> commit = new GroupCommit<>(flush, 2, 2, (request, maybe) -> new Closed(maybe), "race");
        Map<Integer, Object> outcomes = new ConcurrentHashMap<>();
        Map<Integer, AtomicInteger> ends = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(CALLERS + 1);
        List<Thread> callers = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            Thread caller = new Thread(() -> {
                try {
                    start.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < 300; i++) {
                    int request = next.incrementAndGet();
                    ends.put(request, new AtomicInteger());
                    if (i % 3 == 0) {
                        CompletableFuture<Void> future = commit.submitAsync(request);
                        future.whenComplete((ok, failure) -> {
                            ends.get(request).incrementAndGet();
                            outcomes.put(request, failure == null ? "written" : failure);
                        });
                    } else {
                        try {
                            commit.submit(request);
                            outcomes.put(request, "written");
                        } catch (RuntimeException e) {
                            outcomes.put(request, e);
                        }
                        ends.get(request).incrementAndGet();
                    }
                }
            }, "caller-" + c);
            callers.add(caller);
            caller.start();
        }
        start.await(30, TimeUnit.SECONDS);
        Thread.sleep(ThreadLocalRandom.current().nextInt(20));
        commit.close(Duration.ofMillis(ThreadLocalRandom.current().nextInt(3)));
        for (Thread caller : callers) {
            caller.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(caller.isAlive()).as(caller.getName() + " hangs").isFalse();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (outcomes.size() < next.get() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }

        assertThat(outcomes).as("every request ends").hasSize(next.get());
        ends.forEach((request, count) -> assertThat(count.get()).as("ends of " + request).isEqualTo(1));
        outcomes.forEach((request, outcome) -> {
            if (outcome.equals("written")) {
                assertThat(flushed).as("reported written").contains(request);
            } else {
                assertThat(outcome).as("request " + request).isInstanceOf(Closed.class);
                if (!((Closed) outcome).maybeWritten) {
                    assertThat(flushed).as("request " + request + " reported not written").doesNotContain(request);
                }
            }
        });
    }
}
