package io.gyre.eventstore.jdbc.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.Deadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GroupCommitTest {

    /** Only turns a hang (a lost wake-up) into a failure; no test measures time. */
    private static final long TIMEOUT_SECONDS = 30;
    /** A held flush gives up later than the test does, so a failure is reported as what the test saw. */
    private static final long GATE_SECONDS = 2 * TIMEOUT_SECONDS;

    @Test
    void a_lone_caller_that_waits_writes_its_request_at_once_in_a_batch_of_one_on_its_own_thread() throws Exception {
        Recording<String> flush = Recording.ungated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);

        Caller caller = Caller.start(() -> commit.submit("a"));
        caller.returns();

        // No writer thread woken, no caller woken: the waiting caller took the free writer's place.
        assertThat(flush.batches).containsExactly(List.of("a"));
        assertThat(flush.threads).containsExactly(caller.thread());
        assertThat(commit.queued()).isZero();
    }

    @Test
    void a_lone_caller_that_submits_asynchronously_has_its_request_written_on_a_writer_thread() throws Exception {
        Recording<String> flush = Recording.ungated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);

        commit.submitAsync("a").get(10, java.util.concurrent.TimeUnit.SECONDS);

        assertThat(flush.batches).containsExactly(List.of("a"));
        assertThat(flush.threads).hasSize(1).doesNotContain(Thread.currentThread());
        assertThat(flush.threads.get(0).getName()).contains("writer");
    }

    @Test
    void a_caller_with_a_deadline_and_a_free_writer_place_writes_its_request_on_its_own_thread() {
        Recording<String> flush = Recording.ungated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);

        CompletableFuture<Void> written = commit.submitWithin("a", Deadline.after(Duration.ofSeconds(30)));

        assertThat(written).as("written before the call returned").isCompleted();
        assertThat(flush.batches).containsExactly(List.of("a"));
        assertThat(flush.threads).containsExactly(Thread.currentThread());
    }

    @Test
    void a_caller_with_a_deadline_that_finds_every_writer_busy_is_not_held_and_a_writer_writes_its_request()
            throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        CompletableFuture<Void> leader = commit.submitAsync("leader");
        await(flush.firstStarted);

        CompletableFuture<Void> own = commit.submitWithin("own", Deadline.after(Duration.ofSeconds(30)));

        assertThat(own).as("queued: the caller went on while the only writer is busy").isNotDone();
        flush.open();
        leader.get(TIMEOUT_SECONDS, SECONDS);
        own.get(TIMEOUT_SECONDS, SECONDS);
        assertThat(flush.batches).containsExactly(List.of("leader"), List.of("own"));
        assertThat(flush.threads).doesNotContain(Thread.currentThread());
    }

    @Test
    void a_caller_that_submits_asynchronously_is_free_while_its_request_waits_and_then_gets_its_own_outcome()
            throws Exception {
        RuntimeException refused = new IllegalArgumentException("refused");
        Recording<String> flush = Recording.gated(batch -> batch.stream()
                .map(request -> request.equals("r2") ? refused : null).toList());
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        CompletableFuture<Void> leader = commit.submitAsync("leader");
        await(flush.firstStarted);

        CompletableFuture<Void> first = commit.submitAsync("r1");
        CompletableFuture<Void> second = commit.submitAsync("r2");
        CompletableFuture<Void> third = commit.submitAsync("r3");
        assertThat(List.of(leader, first, second, third)).noneMatch(CompletableFuture::isDone);

        flush.open();
        leader.get(TIMEOUT_SECONDS, SECONDS);
        first.get(TIMEOUT_SECONDS, SECONDS);
        third.get(TIMEOUT_SECONDS, SECONDS);
        assertThatThrownBy(() -> second.get(TIMEOUT_SECONDS, SECONDS)).cause().isSameAs(refused);
        assertThat(flush.batches).containsExactly(List.of("leader"), List.of("r1", "r2", "r3"));
    }

    @Test
    void close_lets_the_writers_write_what_is_queued_and_refuses_later_requests() throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1, (request, maybeWritten) ->
                new IllegalStateException(request + (maybeWritten ? " unknown" : " not written")), "test");
        CompletableFuture<Void> leader = commit.submitAsync("leader");
        await(flush.firstStarted);
        CompletableFuture<Void> queued = commit.submitAsync("queued");

        Thread closing = new Thread(() -> commit.close(Duration.ofSeconds(TIMEOUT_SECONDS)));
        closing.start();
        awaitCondition(() -> closing.getState() == Thread.State.TIMED_WAITING, "close to wait for the writer");
        flush.open();
        closing.join(SECONDS.toMillis(TIMEOUT_SECONDS));

        assertThat(closing.isAlive()).isFalse();
        leader.get(TIMEOUT_SECONDS, SECONDS);
        queued.get(TIMEOUT_SECONDS, SECONDS);
        assertThatThrownBy(() -> commit.submitAsync("after").get()).cause()
                .isInstanceOf(IllegalStateException.class).hasMessage("after not written");
        assertThat(flush.batches).containsExactly(List.of("leader"), List.of("queued"));
    }

    @Test
    void close_fails_every_request_still_queued_or_being_written_once_its_timeout_passes() throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1, (request, maybeWritten) ->
                new IllegalStateException(request + (maybeWritten ? " unknown" : " not written")), "test");
        CompletableFuture<Void> stuck = commit.submitAsync("stuck");
        await(flush.firstStarted);
        CompletableFuture<Void> queued = commit.submitAsync("queued");

        commit.close(Duration.ofMillis(50));

        assertThatThrownBy(() -> stuck.get(TIMEOUT_SECONDS, SECONDS)).cause().hasMessage("stuck unknown");
        assertThatThrownBy(() -> queued.get(TIMEOUT_SECONDS, SECONDS)).cause().hasMessage("queued not written");
        flush.open();
    }

    @Test
    void a_lone_caller_gets_the_very_failure_its_flush_reports() throws Exception {
        RuntimeException refused = new IllegalArgumentException("refused");
        GroupCommit<String> commit = new GroupCommit<>(batch -> Collections.singletonList(refused), 16, 1);

        Caller caller = Caller.start(() -> commit.submit("a"));

        assertThat(caller.failure()).isSameAs(refused);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8})
    void every_request_is_written_exactly_once_under_contention_within_the_batch_and_leader_limits(int leaders)
            throws Exception {
        int threads = 32;
        int perThread = 2_000;
        int maxBatch = 16;
        AtomicInteger flushing = new AtomicInteger();
        AtomicInteger mostFlushing = new AtomicInteger();
        AtomicInteger largestBatch = new AtomicInteger();
        GroupCommit<Request> commit = new GroupCommit<>(batch -> {
            mostFlushing.accumulateAndGet(flushing.incrementAndGet(), Math::max);
            largestBatch.accumulateAndGet(batch.size(), Math::max);
            batch.forEach(request -> request.writes.incrementAndGet());
            Thread.yield();
            flushing.decrementAndGet();
            return written(batch);
        }, maxBatch, leaders);
        List<Request> requests = Stream.generate(Request::new).limit((long) threads * perThread).toList();
        CountDownLatch start = new CountDownLatch(1);

        List<Caller> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<Request> own = requests.subList(t * perThread, (t + 1) * perThread);
            callers.add(Caller.start(() -> {
                await(start);
                own.forEach(commit::submit);
            }));
        }
        start.countDown();
        for (Caller caller : callers) {
            caller.returns();
        }

        assertThat(requests.stream().filter(request -> request.writes.get() != 1).count())
                .as("requests not written exactly once").isZero();
        assertThat(largestBatch.get()).as("largest batch").isLessThanOrEqualTo(maxBatch);
        assertThat(mostFlushing.get()).as("most flushes at once").isBetween(1, leaders);
        assertThat(commit.queued()).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 15, 16})
    void requests_that_arrive_while_the_leader_is_busy_are_written_next_in_one_batch_in_arrival_order(int waiting)
            throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<String> requests = names(waiting);
        List<Caller> callers = queue(commit, requests);
        assertThat(flush.batches).as("written while the leader is busy").hasSize(1);

        flush.open();
        leader.returns();
        for (Caller caller : callers) {
            caller.returns();
        }

        assertThat(flush.batches).containsExactly(List.of("leader"), requests);
        assertThat(commit.queued()).isZero();
    }

    @Test
    void more_waiting_requests_than_the_batch_limit_are_written_in_full_batches_in_arrival_order() throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 4, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<String> requests = names(9);
        List<Caller> callers = queue(commit, requests);

        flush.open();
        leader.returns();
        for (Caller caller : callers) {
            caller.returns();
        }

        assertThat(flush.batches).containsExactly(List.of("leader"), requests.subList(0, 4), requests.subList(4, 8),
                requests.subList(8, 9));
    }

    @Test
    void as_many_batches_as_leaders_are_written_at_once_while_a_further_caller_waits() throws Exception {
        CountDownLatch twoWriting = new CountDownLatch(2);
        CountDownLatch gate = new CountDownLatch(1);
        List<List<String>> batches = Collections.synchronizedList(new ArrayList<>());
        GroupCommit<String> commit = new GroupCommit<>(batch -> {
            batches.add(List.copyOf(batch));
            twoWriting.countDown();
            await(gate, GATE_SECONDS);
            return written(batch);
        }, 16, 2);

        Caller first = Caller.start(() -> commit.submit("first"));
        awaitCondition(() -> batches.size() == 1, "the first batch");
        Caller second = Caller.start(() -> commit.submit("second"));
        await(twoWriting);
        Caller third = Caller.start(() -> commit.submit("third"));
        awaitQueued(commit, 1);
        assertThat(batches).as("written while both leaders are busy").hasSize(2);

        gate.countDown();
        first.returns();
        second.returns();
        third.returns();

        assertThat(batches).containsExactlyInAnyOrder(List.of("first"), List.of("second"), List.of("third"));
    }

    @Test
    void each_caller_of_a_batch_gets_exactly_its_own_outcome() throws Exception {
        List<String> requests = names(10);
        Map<String, RuntimeException> refusals = new HashMap<>();
        for (int i = 0; i < requests.size(); i += 2) {
            refusals.put(requests.get(i), new IllegalArgumentException("refused " + requests.get(i)));
        }
        Recording<String> flush = Recording.gated(batch -> batch.stream().map(refusals::get).toList());
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<Caller> callers = queue(commit, requests);

        flush.open();
        leader.returns();

        for (int i = 0; i < requests.size(); i++) {
            RuntimeException refusal = refusals.get(requests.get(i));
            if (refusal == null) {
                callers.get(i).returns();
            } else {
                assertThat(callers.get(i).failure()).as(requests.get(i)).isSameAs(refusal);
            }
        }
        assertThat(flush.batches).as("the outcomes came from one batch").containsExactly(List.of("leader"), requests);
    }

    @Test
    void a_flush_that_throws_fails_every_request_of_its_batch_and_later_requests_are_still_written()
            throws Exception {
        RuntimeException outage = new IllegalStateException("database unreachable");
        Recording<String> flush = Recording.gated(batch -> {
            if (!batch.contains("later")) {
                throw outage;
            }
            return written(batch);
        });
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<String> requests = names(5);
        List<Caller> callers = queue(commit, requests);

        flush.open();
        leader.returns();
        for (Caller caller : callers) {
            assertThat(caller.failure()).isSameAs(outage);
        }
        Caller later = Caller.start(() -> commit.submit("later"));
        later.returns();

        assertThat(flush.batches).containsExactly(List.of("leader"), requests, List.of("later"));
    }

    @Test
    void an_error_from_the_flush_fails_every_request_of_its_batch_as_illegal_state_and_the_writer_goes_on()
            throws Exception {
        AssertionError error = new AssertionError("flush broke");
        Recording<String> flush = Recording.gated(batch -> {
            if (!batch.contains("later")) {
                throw error;
            }
            return written(batch);
        });
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<Caller> callers = queue(commit, names(3));

        flush.open();
        leader.returns();
        for (Caller caller : callers) {
            assertThat(caller.failure()).isInstanceOf(IllegalStateException.class).cause().isSameAs(error);
        }
        Caller later = Caller.start(() -> commit.submit("later"));
        later.returns();
    }

    @Test
    void requests_queued_behind_a_batch_whose_flush_throws_an_error_are_still_written() throws Exception {
        AssertionError error = new AssertionError("flush broke");
        Recording<String> flush = Recording.gated(batch -> {
            if (batch.contains("r1")) {
                throw error;
            }
            return written(batch);
        });
        GroupCommit<String> commit = new GroupCommit<>(flush, 2, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<Caller> callers = queue(commit, names(3));

        flush.open();
        leader.returns();
        assertThat(callers.get(0).failure()).isNotNull();
        assertThat(callers.get(1).failure()).isNotNull();
        callers.get(2).returns();

        assertThat(flush.batches).containsExactly(List.of("leader"), List.of("r1", "r2"), List.of("r3"));
    }

    @ParameterizedTest
    @ValueSource(ints = {-3, -1, 1})
    void a_flush_reporting_the_wrong_number_of_outcomes_fails_its_batch_with_illegal_state(int surplus)
            throws Exception {
        Recording<String> flush = Recording.gated(
                batch -> batch.contains("later") ? written(batch) : successes(batch.size() + surplus));
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        List<Caller> callers = queue(commit, names(3));

        flush.open();
        leader.returns();
        for (Caller caller : callers) {
            assertThat(caller.failure()).isInstanceOf(IllegalStateException.class)
                    .hasMessage("a flush of 3 requests reported " + (3 + surplus) + " outcomes");
        }
        Caller later = Caller.start(() -> commit.submit("later"));
        later.returns();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void an_interrupted_caller_still_waits_for_its_request_and_returns_with_its_interrupt_flag_set(
            boolean interruptedBeforeSubmitting) throws Exception {
        Recording<String> flush = Recording.gated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 16, 1);
        Caller leader = busyLeader(commit, flush, "leader");
        AtomicBoolean writtenWhenReturned = new AtomicBoolean();
        AtomicBoolean interruptedWhenReturned = new AtomicBoolean();

        Caller waiter = Caller.start(() -> {
            if (interruptedBeforeSubmitting) {
                Thread.currentThread().interrupt();
            }
            commit.submit("waiter");
            writtenWhenReturned.set(flush.batches.contains(List.of("waiter")));
            interruptedWhenReturned.set(Thread.currentThread().isInterrupted());
        });
        awaitQueued(commit, 1);
        awaitWaitingUninterrupted(waiter);
        if (!interruptedBeforeSubmitting) {
            waiter.thread().interrupt();
            awaitWaitingUninterrupted(waiter);
        }
        assertThat(waiter.outcome().isDone()).as("returned before its request was written").isFalse();

        flush.open();
        leader.returns();
        waiter.returns();

        assertThat(writtenWhenReturned).isTrue();
        assertThat(interruptedWhenReturned).isTrue();
        assertThat(flush.batches).containsExactly(List.of("leader"), List.of("waiter"));
    }

    @Test
    void a_lone_caller_that_is_interrupted_writes_at_once_and_keeps_its_interrupt_flag() throws Exception {
        Recording<String> flush = Recording.ungated(GroupCommitTest::written);
        GroupCommit<String> commit = new GroupCommit<>(flush, 1, 1);
        AtomicBoolean interruptedWhenReturned = new AtomicBoolean();

        Caller caller = Caller.start(() -> {
            Thread.currentThread().interrupt();
            commit.submit("a");
            interruptedWhenReturned.set(Thread.currentThread().isInterrupted());
        });
        caller.returns();

        assertThat(interruptedWhenReturned).isTrue();
        assertThat(flush.batches).containsExactly(List.of("a"));
    }

    @ParameterizedTest
    @CsvSource({"0, 1", "1, 0", "-1, 1", "1, -1", "0, 0"})
    void a_batch_limit_or_writer_count_below_one_is_refused(int maxBatch, int leaders) {
        assertThatThrownBy(() -> new GroupCommit<String>(GroupCommitTest::written, maxBatch, leaders))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBatch and writers must be 1 or more, but were " + maxBatch + " and " + leaders);
    }

    @Test
    void a_null_flush_is_refused() {
        assertThatThrownBy(() -> new GroupCommit<String>(null, 1, 1)).isInstanceOf(NullPointerException.class)
                .hasMessage("flush");
    }

    private static <T> List<@Nullable RuntimeException> written(List<T> batch) {
        return successes(batch.size());
    }

    private static List<@Nullable RuntimeException> successes(int count) {
        return new ArrayList<>(Collections.nCopies(count, null));
    }

    private static List<String> names(int count) {
        return IntStream.rangeClosed(1, count).mapToObj(i -> "r" + i).toList();
    }

    /** Starts a caller whose flush is the gated first one, and returns once it is being written. */
    private static <T> Caller busyLeader(GroupCommit<T> commit, Recording<T> flush, T request) {
        Caller leader = Caller.start(() -> commit.submit(request));
        await(flush.firstStarted);
        return leader;
    }

    /** Starts a caller per request, each once the one before it is queued, so they arrive in this order. */
    private static <T> List<Caller> queue(GroupCommit<T> commit, List<T> requests) {
        int before = commit.queued();
        List<Caller> callers = new ArrayList<>();
        for (T request : requests) {
            callers.add(Caller.start(() -> commit.submit(request)));
            awaitQueued(commit, before + callers.size());
        }
        return callers;
    }

    private static void awaitQueued(GroupCommit<?> commit, int queued) {
        awaitCondition(() -> commit.queued() == queued, queued + " queued requests");
    }

    /** Waits until the caller is parked again with its interrupt status consumed (or has returned). */
    private static void awaitWaitingUninterrupted(Caller caller) {
        Thread thread = caller.thread();
        awaitCondition(() -> caller.outcome().isDone()
                        || thread.getState() == Thread.State.WAITING && !thread.isInterrupted(),
                thread.getName() + " waiting");
    }

    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Gave up waiting for " + what);
            }
            Thread.yield();
        }
    }

    private static void await(CountDownLatch latch) {
        await(latch, TIMEOUT_SECONDS);
    }

    private static void await(CountDownLatch latch, long seconds) {
        try {
            if (!latch.await(seconds, SECONDS)) {
                throw new AssertionError("Gave up waiting for a latch");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted waiting for a latch", e);
        }
    }

    private static final class Request {
        final AtomicInteger writes = new AtomicInteger();
    }

    /** A thread running submits, and what became of them. */
    private record Caller(Thread thread, FutureTask<Void> outcome) {

        private static final AtomicInteger NUMBER = new AtomicInteger();

        static Caller start(Runnable submits) {
            FutureTask<Void> outcome = new FutureTask<>(submits, null);
            Thread thread = new Thread(outcome, "caller-" + NUMBER.incrementAndGet());
            thread.setDaemon(true);
            thread.start();
            return new Caller(thread, outcome);
        }

        void returns() throws InterruptedException, ExecutionException {
            try {
                outcome.get(TIMEOUT_SECONDS, SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError(thread.getName() + " never returned", e);
            }
        }

        Throwable failure() throws InterruptedException {
            try {
                returns();
            } catch (ExecutionException e) {
                return e.getCause();
            }
            throw new AssertionError(thread.getName() + " returned normally");
        }
    }

    /**
     * Records each batch and the thread that wrote it. A gated recording holds its first flush until
     * {@link #open()} and writes it; the outcomes of every other flush come from the given function.
     */
    private static final class Recording<T> implements GroupCommit.Flush<T> {

        final List<List<T>> batches = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstStarted = new CountDownLatch(1);
        private final CountDownLatch gate;
        private final Function<List<T>, List<@Nullable RuntimeException>> outcomes;

        private Recording(boolean gated, Function<List<T>, List<@Nullable RuntimeException>> outcomes) {
            this.gate = new CountDownLatch(gated ? 1 : 0);
            this.outcomes = outcomes;
        }

        static <T> Recording<T> gated(Function<List<T>, List<@Nullable RuntimeException>> outcomes) {
            return new Recording<>(true, outcomes);
        }

        static <T> Recording<T> ungated(Function<List<T>, List<@Nullable RuntimeException>> outcomes) {
            return new Recording<>(false, outcomes);
        }

        void open() {
            gate.countDown();
        }

        @Override
        public List<@Nullable RuntimeException> write(List<T> batch) {
            boolean first;
            synchronized (this) {
                batches.add(List.copyOf(batch));
                threads.add(Thread.currentThread());
                first = batches.size() == 1;
            }
            if (first && gate.getCount() > 0) {
                firstStarted.countDown();
                await(gate, GATE_SECONDS);
                return written(batch);
            }
            firstStarted.countDown();
            return outcomes.apply(batch);
        }
    }
}
