package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets concurrent appends share a transaction, written by a few writer threads of its own while the callers go on.
 * A database pays most of an append at its commit (PostgreSQL flushes its log, H2 writes every changed page), so
 * appends that arrive while others are being written are queued and written together, in one transaction.
 *
 * <p>A caller queues its request and gets a future ({@link #submitAsync}); it is never blocked, so one command
 * worker can have many appends in flight. Nobody waits for company: a request that finds a writer free is written
 * at once, alone if nothing else is queued, so a single caller sees the latency of a plain INSERT plus one hand-off
 * to a writer. Requests that arrive while every writer is busy wait, and the first writer free writes all of them
 * (up to the batch limit) in its next batch. A writer goes on with the next batch while requests are queued and
 * stops when none is, so an idle store has no writer running; every queued request has a writer on its way.
 *
 * <p>Futures complete on the writer thread: what depends on them must not block. The number of requests in flight
 * is bounded by the callers (a command bus admits a bounded number of commands), not here.
 *
 * <p>{@link #close(Duration)} refuses new requests, lets the writers write what is queued, and fails whatever is left
 * after its timeout, so that no future is left hanging. Thread-safe. Internal: not part of Gyre's API.
 *
 * @param <T> the request type
 */
public final class GroupCommit<T> {

    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

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

        /**
         * Writes a batch for a caller that waits with a deadline ({@link #submitWithin}): like {@link #write(List)},
         * but a write the database holds past the deadline is cancelled and rolled back, and reported as a failure
         * of each request (nothing of them stored) that {@link #cutAtDeadline} recognises: the group commit fails
         * the caller's own request so, and queues the others again. The default ignores the deadline.
         *
         * @param batch    requests in arrival order, one or more
         * @param deadline when the caller stops waiting
         * @return one outcome per request, as {@link #write(List)}'s
         */
        default List<@Nullable RuntimeException> write(List<T> batch, Deadline deadline) {
            return write(batch);
        }

        /**
         * @param failure an outcome that {@link #write(List, Deadline)} reported
         * @return true when it only says that the write was cut at the caller's deadline and rolled back: nothing
         *         of the request is stored, and it may be written again. The default: never.
         */
        default boolean cutAtDeadline(RuntimeException failure) {
            return false;
        }
    }

    /**
     * The failure of a request that the store's closing ended.
     *
     * @param <T> the request type
     */
    @FunctionalInterface
    public interface Closed<T> {
        /**
         * @param request      the request
         * @param maybeWritten true when its batch was being written (its outcome is unknown), false when it was still
         *                     queued or came after the close (it was not written)
         * @return its failure
         */
        RuntimeException failure(T request, boolean maybeWritten);
    }

    private final Flush<T> flush;
    private final Closed<T> closed;
    private final int maxBatch;
    private final int writers;
    private final ThreadPoolExecutor threads;
    // A deque: requests that a caller's deadline cut go back to its head, in order (see write).
    private final ConcurrentLinkedDeque<Pending<T>> queue = new ConcurrentLinkedDeque<>();
    private final Set<Pending<T>> writing = ConcurrentHashMap.newKeySet();
    private final AtomicInteger activeWriters = new AtomicInteger();
    private volatile boolean closing;

    /**
     * @param flush   writes a batch
     * @param maxBatch the most requests written together, 1 or more
     * @param writers  the most batches written at once, each by a thread of its own, 1 or more
     */
    public GroupCommit(Flush<T> flush, int maxBatch, int writers) {
        this(flush, maxBatch, writers, (request, maybeWritten) -> new IllegalStateException("Group commit closed; "
                + request + (maybeWritten ? " may have been written" : " was not written")), "gyre-group-commit");
    }

    /**
     * @param flush    writes a batch
     * @param maxBatch the most requests written together, 1 or more
     * @param writers  the most batches written at once, each by a thread of its own, 1 or more
     * @param closed   the failure of a request ended by {@link #close(Duration)}
     * @param name     the start of the writer threads' names
     */
    public GroupCommit(Flush<T> flush, int maxBatch, int writers, Closed<T> closed, String name) {
        if (maxBatch < 1 || writers < 1) {
            throw new IllegalArgumentException("maxBatch and writers must be 1 or more, but were " + maxBatch + " and "
                    + writers);
        }
        this.flush = Objects.requireNonNull(flush, "flush");
        this.closed = Objects.requireNonNull(closed, "closed");
        this.maxBatch = maxBatch;
        this.writers = writers;
        String prefix = name + "-" + INSTANCES.incrementAndGet() + "-writer-";
        AtomicInteger count = new AtomicInteger();
        // Threads come when there is something to write and leave after a minute without, so an idle store holds
        // none; the active count below keeps the queue of this executor to at most one task per writer.
        this.threads = new ThreadPoolExecutor(writers, writers, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        this.threads.allowCoreThreadTimeOut(true);
    }

    /**
     * Queues the request to be written, alone or with others, by a writer thread.
     *
     * @param request the request
     * @return completes, on a writer thread, when the request is written; or fails with its failure as reported by
     *         the flush (the very exception), or with the closing failure; never throws
     */
    public CompletableFuture<Void> submitAsync(T request) {
        Pending<T> pending = new Pending<>(Objects.requireNonNull(request, "request"));
        queue.add(pending);
        if (closing) {
            // Refused unless close() or a writer took it first; whoever takes it out of the queue completes it.
            if (queue.remove(pending)) {
                pending.completeExceptionally(closed.failure(request, false));
            }
            return pending;
        }
        startWriterIfNeeded();
        return pending;
    }

    /**
     * Writes the request, alone or with others, and returns when it is written. A caller that finds a writer's place free
     * writes the batch itself, its own request and whatever was queued before it, instead of handing it to a writer
     * thread and sleeping until that thread wakes it: two thread switches fewer, which on a loaded machine cost more
     * CPU than binding the request. It is then a writer like the others: it counts against the limit, and it writes
     * the queue in order until its own request is written; what is queued after that is left to the writer threads.
     * A caller that finds every place taken queues its request and waits, as {@link #submitAsync} does. (Leading
     * only when no writer at all was busy, so that more appends share a transaction, measured slower on PostgreSQL
     * at 8 clients on a quiet machine: 0.41-0.47x a raw INSERT against 0.50-0.59x; on an embedded H2 file callers
     * never write, see {@code JdbcEventStore.append}.)
     *
     * <p>Waiting is not interruptible: a queued request may be written at any moment, so the caller waits for the
     * outcome and keeps its interrupt status for later. An interrupted caller never writes itself (an interrupt
     * inside a file write can close an embedded database's file), and one interrupted while it writes stops after
     * that batch, leaving the rest, its own request too if not yet written, to the writer threads.
     *
     * @param request the request
     * @throws RuntimeException the request's failure, as reported by the flush
     */
    public void submit(T request) {
        Pending<T> pending = new Pending<>(Objects.requireNonNull(request, "request"));
        queue.add(pending);
        if (closing) {
            if (queue.remove(pending)) {
                pending.completeExceptionally(closed.failure(request, false));
            }
        } else if (!writeAsCaller(pending)) {
            startWriterIfNeeded();
        }
        try {
            pending.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw e;
        }
    }

    /**
     * Writes the request as {@link #submit} does when a writer's place is free, its batches bounded by the caller's
     * deadline ({@link Flush#write(List, Deadline)}), and returns the completed outcome; else queues it as
     * {@link #submitAsync} does and returns at once, so that a caller whose request waits for a busy writer is not
     * held past its deadline (it waits for its command, which its deadline answers). A caller that finds its deadline
     * too close to write another batch leaves the rest of the queue, its own request too, to the writer threads.
     *
     * @param request  the request
     * @param deadline when the caller stops waiting
     * @return the request's outcome: complete when the caller wrote it, else completed later on a writer thread;
     *         never throws
     */
    public CompletableFuture<Void> submitWithin(T request, Deadline deadline) {
        Objects.requireNonNull(deadline, "deadline");
        Pending<T> pending = new Pending<>(Objects.requireNonNull(request, "request"));
        queue.add(pending);
        if (closing) {
            if (queue.remove(pending)) {
                pending.completeExceptionally(closed.failure(request, false));
            }
        } else if (!writeAsCaller(pending, deadline)) {
            startWriterIfNeeded();
        }
        return pending;
    }

    /** @return requests waiting for a writer */
    public int queued() {
        return queue.size();
    }

    /**
     * Refuses new requests, waits up to the timeout for the writers to write the queued ones, then fails what is
     * left: queued requests as not written, requests still being written as of unknown outcome.
     *
     * @param timeout how long to let the writers finish
     */
    public void close(Duration timeout) {
        closing = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        while ((!queue.isEmpty() || activeWriters.get() > 0) && System.nanoTime() - deadline < 0) {
            startWriterIfNeeded();
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        for (Pending<T> left; (left = queue.poll()) != null; ) {
            left.completeExceptionally(closed.failure(left.request, false));
        }
        for (Pending<T> each : writing) {
            if (each.completeExceptionally(closed.failure(each.request, true))) {
                log.warn("Closed while {} was being written; its outcome is unknown", each.request);
            }
        }
        threads.shutdown();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The calling thread takes a free writer's place and writes batches, oldest first, until its own
     * request is written, the queue is empty (another writer took it, and completes it), or the thread is interrupted.
     *
     * @return false when every writer's place is taken, or the thread is interrupted: the request waits in the queue
     */
    private boolean writeAsCaller(Pending<T> own) {
        return writeAsCaller(own, null);
    }

    /**
     * @param deadline bounds each batch the caller writes, and the caller stops taking batches once it has passed;
     *                 null for none
     */
    private boolean writeAsCaller(Pending<T> own, @Nullable Deadline deadline) {
        if (Thread.currentThread().isInterrupted() || !takeFreePlace()) {
            return false;
        }
        try {
            // An interrupt that reaches this caller while it writes cannot be kept out of that write, but it stops it
            // there: the next batch may hold other callers' requests, which an interrupted JDBC call would fail with
            // it (a pool's wait for a connection, an embedded database's file channel). What is left of the queue,
            // this caller's request too, goes to the writer threads below.
            Thread self = Thread.currentThread();
            for (List<Pending<T>> batch; !own.isDone() && !self.isInterrupted()
                    && (deadline == null || !deadline.hasPassed()) && !(batch = nextBatch()).isEmpty(); ) {
                write(batch, deadline, own);
            }
        } finally {
            activeWriters.decrementAndGet();
            // Requests queued meanwhile, behind this caller's, go to the writer threads, and so do the requests of
            // others that its deadline cut.
            startWriterIfNeeded();
        }
        return true;
    }

    /** @return true when this thread took a writer's place, false when all were taken */
    private boolean takeFreePlace() {
        for (int active; (active = activeWriters.get()) < writers; ) {
            if (activeWriters.compareAndSet(active, active + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Starts a writer when requests are queued and fewer than the limit are writing. */
    private void startWriterIfNeeded() {
        while (!queue.isEmpty()) {
            int active = activeWriters.get();
            if (active >= writers) {
                return; // a busy writer takes the queue when it is done: it writes until the queue is empty
            }
            if (activeWriters.compareAndSet(active, active + 1)) {
                try {
                    threads.execute(this::writeWhileQueued);
                } catch (RejectedExecutionException e) {
                    // Only after close(), which fails what is left in the queue.
                    activeWriters.decrementAndGet();
                }
                return;
            }
        }
    }

    /** A writer's turn: batches until the queue is empty. */
    private void writeWhileQueued() {
        try {
            for (List<Pending<T>> batch; !(batch = nextBatch()).isEmpty(); ) {
                write(batch);
            }
        } finally {
            activeWriters.decrementAndGet();
            // A request queued after this writer found the queue empty, while every writer was still counted busy,
            // would otherwise wait for the next request to start a writer.
            startWriterIfNeeded();
        }
    }

    private List<Pending<T>> nextBatch() {
        List<Pending<T>> batch = new ArrayList<>();
        for (Pending<T> next; batch.size() < maxBatch && (next = queue.poll()) != null; ) {
            writing.add(next);
            batch.add(next);
        }
        return batch;
    }

    private void write(List<Pending<T>> batch) {
        write(batch, null, null);
    }

    /**
     * @param deadline the deadline of the caller that writes the batch, or null for a writer thread
     * @param own      that caller's own request, or null
     */
    private void write(List<Pending<T>> batch, @Nullable Deadline deadline, @Nullable Pending<T> own) {
        List<Pending<T>> cut = new ArrayList<>(0);
        try {
            List<T> requests = new ArrayList<>(batch.size());
            for (Pending<T> each : batch) {
                requests.add(each.request);
            }
            List<@Nullable RuntimeException> outcomes = deadline == null ? flush.write(requests)
                    : flush.write(requests, deadline);
            if (outcomes.size() != batch.size()) {
                throw new IllegalStateException("a flush of " + batch.size() + " requests reported " + outcomes.size()
                        + " outcomes");
            }
            for (int i = 0; i < batch.size(); i++) {
                RuntimeException failure = outcomes.get(i);
                Pending<T> each = batch.get(i);
                if (failure == null) {
                    each.complete(null);
                } else if (deadline != null && each != own && flush.cutAtDeadline(failure)) {
                    // Another caller's request (or one with no deadline) cut by this caller's deadline: nothing of it
                    // is stored, and its own caller still waits, so it is written again by a writer thread rather
                    // than failed for a deadline that was not its own.
                    cut.add(each);
                } else {
                    each.completeExceptionally(failure);
                }
            }
        } catch (RuntimeException e) {
            failRest(batch, e);
        } catch (Error e) {
            // Even an Error (out of memory, say) must leave no request of the batch without an outcome; the writer
            // goes on with the queue, whose requests would otherwise wait for ever.
            log.error("Writing a batch of {} appends failed", batch.size(), e);
            failRest(batch, new IllegalStateException("Writing a batch of appends failed", e));
        } finally {
            requeue(cut);
            batch.forEach(writing::remove);
        }
    }

    /**
     * Puts requests that a caller's deadline cut back at the head of the queue, in their order, ahead of what was
     * queued after them. Before they leave {@link #writing}, so that a concurrent {@link #close} sees each of them in
     * one place or the other; one requeued after close() emptied the queue is failed here as not written.
     */
    private void requeue(List<Pending<T>> cut) {
        for (int i = cut.size() - 1; i >= 0; i--) {
            queue.addFirst(cut.get(i));
        }
        if (closing) {
            for (Pending<T> each : cut) {
                if (queue.remove(each)) {
                    each.completeExceptionally(closed.failure(each.request, false));
                }
            }
        }
    }

    private static <T> void failRest(List<Pending<T>> batch, RuntimeException failure) {
        for (Pending<T> each : batch) {
            each.completeExceptionally(failure);
        }
    }

    /** A queued request and its outcome; a future of its own class, so that the queue holds one object each. */
    private static final class Pending<T> extends CompletableFuture<Void> {
        final T request;

        Pending(T request) {
            this.request = request;
        }
    }
}
