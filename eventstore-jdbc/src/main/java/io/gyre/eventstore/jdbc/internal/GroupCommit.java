package io.gyre.eventstore.jdbc.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Lets concurrent appends share a transaction. A database pays most of an append at its commit (PostgreSQL
 * flushes its log, H2 writes every changed page), so appends that arrive while others are being written are
 * queued and written together by one of their threads, the leader, in one transaction.
 *
 * <p>No thread is added and nobody waits for company: an append that finds a free leader slot writes at once,
 * alone if nothing else is queued, so a single caller sees the latency of a plain INSERT. Only appends that
 * arrive while every slot is busy wait, and they are written in the next batch. A leader writes one batch and
 * then wakes the thread at the head of the queue, which leads the next batch unless another has already taken
 * it; every queued append therefore has a leader on its way, and every caller returns with its own outcome.
 *
 * <p>Waiting is not interruptible: an append that was queued may be written at any moment, so its caller waits
 * for the outcome and keeps its interrupt status for later. Thread-safe. Internal: not part of Gyre's API.
 *
 * @param <T> the request type
 */
public final class GroupCommit<T> {

    /**
     * Writes a batch and reports each request's outcome.
     *
     * @param <T> the request type
     */
    @FunctionalInterface
    public interface Flush<T> {
        /**
         * @param batch requests in arrival order, one or more
         * @return one outcome per request, in order: null for written, else the failure to throw to its caller;
         *         a thrown exception fails every request of the batch
         */
        List<@Nullable RuntimeException> write(List<T> batch);
    }

    private final Flush<T> flush;
    private final int maxBatch;
    private final Semaphore leaders;
    private final ConcurrentLinkedQueue<Pending<T>> queue = new ConcurrentLinkedQueue<>();

    /**
     * @param flush     writes a batch
     * @param maxBatch  the most requests written together, 1 or more
     * @param leaders   the most batches written at once, 1 or more
     */
    public GroupCommit(Flush<T> flush, int maxBatch, int leaders) {
        if (maxBatch < 1 || leaders < 1) {
            throw new IllegalArgumentException("maxBatch and leaders must be 1 or more, but were " + maxBatch + " and "
                    + leaders);
        }
        this.flush = Objects.requireNonNull(flush, "flush");
        this.maxBatch = maxBatch;
        this.leaders = new Semaphore(leaders);
    }

    /**
     * Writes the request, alone or with others, and returns when it is written.
     *
     * @param request the request
     * @throws RuntimeException the request's failure, as reported by the flush
     */
    public void submit(T request) {
        Pending<T> pending = new Pending<>(request, Thread.currentThread());
        queue.add(pending);
        boolean interrupted = false;
        while (!pending.isDone()) {
            if (leaders.tryAcquire()) {
                // The leader writes for others too: its own caller's interrupt must not reach their
                // transaction (H2's file channel closes on an interrupted write).
                interrupted |= Thread.interrupted();
                try {
                    if (!pending.isDone()) {
                        writeNextBatch(pending);
                    }
                } finally {
                    leaders.release();
                    wakeHead();
                }
            } else {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        RuntimeException failure = pending.failure;
        if (failure != null) {
            throw failure;
        }
    }

    /** @return requests waiting for a leader */
    public int queued() {
        return queue.size();
    }

    /** @param own the leader's request: an Error of the flush is thrown to the leader only if it was in the batch */
    private void writeNextBatch(Pending<T> own) {
        List<Pending<T>> batch = new ArrayList<>();
        try {
            for (Pending<T> next; batch.size() < maxBatch && (next = queue.poll()) != null; ) {
                batch.add(next);
            }
            if (batch.isEmpty()) {
                return;
            }
            List<T> requests = new ArrayList<>(batch.size());
            for (Pending<T> each : batch) {
                requests.add(each.request);
            }
            List<@Nullable RuntimeException> outcomes = flush.write(requests);
            if (outcomes.size() != batch.size()) {
                throw new IllegalStateException("a flush of " + batch.size() + " requests reported " + outcomes.size()
                        + " outcomes");
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).complete(outcomes.get(i));
            }
        } catch (RuntimeException e) {
            failRest(batch, e);
        } catch (Error e) {
            // Even an Error (out of memory while polling, say) must leave no polled request without an outcome:
            // its caller would wait for ever. The leader gets the Error itself when its own request was in the
            // batch.
            failRest(batch, new IllegalStateException("Writing a batch of appends failed", e));
            if (batch.contains(own)) {
                throw e;
            }
        }
    }

    private static <T> void failRest(List<Pending<T>> batch, RuntimeException failure) {
        for (Pending<T> each : batch) {
            if (!each.isDone()) {
                each.complete(failure);
            }
        }
    }

    /** Hands leadership on: the head of the queue is waiting for a leader that may have just left. */
    private void wakeHead() {
        Pending<T> head = queue.peek();
        if (head != null) {
            LockSupport.unpark(head.waiter);
        }
    }

    private static final class Pending<T> {
        final T request;
        final Thread waiter;
        volatile boolean done;
        @Nullable RuntimeException failure;  // written before done, read after it

        Pending(T request, Thread waiter) {
            this.request = request;
            this.waiter = waiter;
        }

        boolean isDone() {
            return done;
        }

        void complete(@Nullable RuntimeException outcome) {
            failure = outcome;
            done = true;
            LockSupport.unpark(waiter);
        }
    }
}
