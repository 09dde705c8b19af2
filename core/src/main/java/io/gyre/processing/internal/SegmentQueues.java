package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.OwnedSegments;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.TrackingProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the shared reader and the segment workers of one tracking processor on one node hold in common, under one
 * lock: the workers of the segments this node owns, their queues, the reader's position {@code R}, and what the
 * reader last saw of the end of the log.
 *
 * <p>Reading once for every segment: the reader stands at {@code R} and hands each event of a batch to the queue of
 * its segment's worker, if that worker is <em>attached</em>, followed by a progress mark at the batch's end so that
 * segments with no event in it can move their token too. A worker that falls out (it retries a failing event, stops,
 * or has just been claimed at a token behind {@code R}) is <em>detached</em>: the reader skips it, and it reads the
 * log on its own from its last token until it reaches {@code R}, then attaches again. Each worker keeps the token of
 * the last item it was given ({@code assigned}) and accepts only later events, so an event is never queued twice,
 * whoever read it. The reader moves back to a joining worker's token when that is close behind (a few batches), and
 * reads for the first worker to attach from that worker's token; it waits while any attached worker's queue holds
 * more than a batch, which is the back-pressure that bounds memory. Moving the reader bumps a generation, and a
 * batch read under an older generation is dropped. One worker's queue, its assigned token and whether it is attached
 * are its {@link SegmentQueue}, which this class alone changes, under its lock. Internal: not part of Gyre's API.
 */
final class SegmentQueues {

    private static final Logger log = LoggerFactory.getLogger(SegmentQueues.class);
    /** How far, in batches, the reader moves back for a worker that joins behind it, instead of leaving it alone. */
    private static final int REWIND_BATCHES = 4;

    private final TrackingProcessor definition;
    private final String owner;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the reader may have something to do: a worker attached or drained, the log grew, closing. */
    private final Condition readerWake = lock.newCondition();
    private final AtomicLong appendSignals = new AtomicLong();
    private volatile boolean readerWaiting;

    private final Map<Integer, SegmentWorker> workers = new HashMap<>();
    private @Nullable TrackingToken readerPosition;
    private long generation;
    private boolean atHead;
    /** The append signals counted when the reader last found the end of the log; a later append moves the end. */
    private long headSignals = -1;
    private @Nullable TrackingToken headToken;
    private @Nullable Instant headTimestamp;
    private boolean resetting;
    /** False until the first ownership arrives: until then every segment may turn out to be this node's. */
    private boolean ownershipKnown;
    private boolean closed;

    SegmentQueues(TrackingProcessor definition, String owner) {
        this.definition = definition;
        this.owner = owner;
    }

    /** Wakes the reader after an append: it reads at once instead of at its next poll. */
    void appended() {
        appendSignals.incrementAndGet();
        if (readerWaiting) {
            lock.lock();
            try {
                readerWake.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    // ---- the workers (control thread, under the lock) ----

    /** The workers that ownership took away and gave. */
    record Changes(List<SegmentWorker> lost, List<SegmentWorker> gained) {
    }

    /**
     * Applies a new set of owned segments: drops the workers of segments lost (or held at another epoch now) and
     * makes workers for segments gained.
     *
     * @param owned   the owned segments
     * @param workerOf makes the worker of a segment at an epoch
     * @return what changed; nothing once closed
     */
    Changes apply(OwnedSegments owned, BiFunction<Integer, Long, SegmentWorker> workerOf) {
        List<SegmentWorker> lost = new ArrayList<>();
        List<SegmentWorker> gained = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return new Changes(lost, gained);
            }
            for (SegmentWorker worker : List.copyOf(workers.values())) {
                Long epoch = owned.epochs().get(worker.segment);
                if (epoch == null || epoch != worker.epoch) {
                    workers.remove(worker.segment);
                    detachAndClear(worker);
                    lost.add(worker);
                }
            }
            ownershipKnown = true;
            owned.epochs().forEach((segment, epoch) -> {
                if (segment >= definition.segments()) {
                    log.warn("Processor '{}' was given segment {} but has {} segments; ignored", definition.name(),
                            segment, definition.segments());
                } else if (!workers.containsKey(segment)) {
                    SegmentWorker worker = workerOf.apply(segment, epoch);
                    workers.put(segment, worker);
                    gained.add(worker);
                }
            });
        } finally {
            lock.unlock();
        }
        return new Changes(lost, gained);
    }

    /** @return true when the worker is still the one of its segment, and not closing */
    boolean isCurrent(SegmentWorker worker) {
        lock.lock();
        try {
            return !closed && workers.get(worker.segment) == worker;
        } finally {
            lock.unlock();
        }
    }

    /** @return the workers of the segments this node owns */
    List<SegmentWorker> workers() {
        lock.lock();
        try {
            return new ArrayList<>(workers.values());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes every worker out for a reset, if this node holds every segment: the reader stops until
     * {@link #endReset}.
     *
     * @return the workers taken out
     * @throws IllegalStateException naming the segments this node does not hold
     */
    List<SegmentWorker> beginReset() {
        lock.lock();
        try {
            List<Integer> missing = new ArrayList<>();
            for (int segment = 0; segment < definition.segments(); segment++) {
                SegmentWorker worker = workers.get(segment);
                if (worker == null || !worker.claimed()) {
                    missing.add(segment);
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalStateException("Processor '" + definition.name() + "' cannot be reset from " + owner
                        + ": it does not hold segments " + missing + " of " + definition.segments() + " (another "
                        + "node runs them, or they are being claimed or were fenced); a reset moves every token, so "
                        + "run it where all segments are held");
            }
            List<SegmentWorker> current = new ArrayList<>(workers.values());
            resetting = true;
            generation++;
            readerPosition = null;
            for (SegmentWorker worker : current) {
                workers.remove(worker.segment);
                detachAndClear(worker);
            }
            return current;
        } finally {
            lock.unlock();
        }
    }

    /** Puts fresh workers in after a reset, and lets the reader go on. */
    void endReset(List<SegmentWorker> fresh) {
        lock.lock();
        try {
            resetting = false;
            if (!closed) {
                fresh.forEach(worker -> workers.put(worker.segment, worker));
            }
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes: the reader stops and no worker is handed anything more.
     *
     * @return the workers to stop; empty when already closed
     */
    List<SegmentWorker> close() {
        lock.lock();
        try {
            if (closed) {
                return List.of();
            }
            closed = true;
            List<SegmentWorker> current = new ArrayList<>(workers.values());
            workers.clear();
            current.forEach(worker -> worker.queue.attached(false));
            readerWake.signalAll();
            return current;
        } finally {
            lock.unlock();
        }
    }

    // ---- status ----

    /**
     * @param stored  the stored tokens by segment
     * @param letters the dead letters by segment
     * @return every segment's status
     */
    List<SegmentStatus> statuses(Map<Integer, SegmentToken> stored, Map<Integer, Integer> letters) {
        List<SegmentStatus> segments = new ArrayList<>();
        lock.lock();
        try {
            for (int segment = 0; segment < definition.segments(); segment++) {
                SegmentWorker worker = workers.get(segment);
                SegmentToken row = stored.get(segment);
                int dead = letters.getOrDefault(segment, 0);
                if (worker == null) {
                    SegmentState state = ownershipKnown ? SegmentState.NOT_OWNED : SegmentState.CLAIMING;
                    segments.add(new SegmentStatus(segment, state, row == null ? null : row.owner(),
                            row == null ? 0 : row.epoch(), row == null ? null : row.token(), -1, null, null, dead));
                } else {
                    segments.add(statusOf(worker, dead));
                }
            }
        } finally {
            lock.unlock();
        }
        return segments;
    }

    // ---- the queues (any thread, under the lock) ----

    /** Sets where a worker stands, when it starts from a claimed token. */
    void assign(SegmentWorker worker, TrackingToken token) {
        lock.lock();
        try {
            worker.queue.assign(token);
        } finally {
            lock.unlock();
        }
    }

    /** @return the token of the last item a worker was given: where it reads on from when detached */
    TrackingToken assignedOf(SegmentWorker worker) {
        lock.lock();
        try {
            return worker.queue.assigned();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets a worker join the reader: at once when it stands at or after the reader, or when it is the only one (the
     * reader then starts from its token), or after moving the reader back when it is close behind.
     */
    void tryAttach(SegmentWorker worker) {
        tryAttachAll(List.of(worker));
    }

    /**
     * {@link #tryAttach} for several workers under one hold of the lock, so that the reader cannot read a batch
     * between them: given lowest token first, the first sets the reader's position and the others, at or after it,
     * join at once.
     */
    void tryAttachAll(List<SegmentWorker> joining) {
        lock.lock();
        try {
            for (SegmentWorker worker : joining) {
                attachLocked(worker);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    private void attachLocked(SegmentWorker worker) {
        if (worker.queue.attached() || workers.get(worker.segment) != worker || !worker.runnable()) {
            return;
        }
        TrackingToken position = worker.queue.assigned();
        boolean anyAttached = workers.values().stream().anyMatch(other -> other.queue.attached());
        if (!anyAttached || readerPosition == null) {
            readerPosition = position;
            generation++;
        } else if (position.compareTo(readerPosition) < 0) {
            long behind = readerPosition.position() - position.position();
            if (behind > (long) REWIND_BATCHES * definition.batchSize()) {
                return;
            }
            readerPosition = position;
            generation++;
        }
        worker.queue.attached(true);
        readerWake.signalAll();
    }

    /** Takes a worker out of the reader's hands, keeping what is queued. */
    void detach(SegmentWorker worker) {
        lock.lock();
        try {
            worker.queue.attached(false);
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes a worker out of the reader's hands and drops its queue: it continues from its handled token. */
    void detachAndClear(SegmentWorker worker) {
        lock.lock();
        try {
            worker.queue.attached(false);
            worker.queue.clear(worker.handled());
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param worker    a worker
     * @param maxEvents the most events to take
     * @return the next items of its queue, up to {@code maxEvents} events and the progress marks between them
     */
    List<Item> take(SegmentWorker worker, int maxEvents) {
        lock.lock();
        try {
            List<Item> chunk = worker.queue.take(maxEvents);
            if (worker.queue.attached() && worker.queue.queuedEvents() <= definition.batchSize()) {
                readerWake.signalAll();
            }
            return chunk;
        } finally {
            lock.unlock();
        }
    }

    /** Puts items back at the head of a worker's queue, in their order. */
    void requeueFront(SegmentWorker worker, List<Item> items) {
        lock.lock();
        try {
            worker.queue.requeueFront(items);
        } finally {
            lock.unlock();
        }
    }

    /** @return true when the worker has items queued */
    boolean hasQueued(SegmentWorker worker) {
        lock.lock();
        try {
            return !worker.queue.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return true when the worker has items queued, or it is attached and the reader has not yet found the end of
     *         the log: more is coming, so a token stored now would soon be stale
     */
    boolean moreAhead(SegmentWorker worker) {
        lock.lock();
        try {
            return !worker.queue.isEmpty() || (worker.queue.attached() && !atHead);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues what a detached worker read on its own, if it is still detached at the token it read from, then tries
     * to attach it.
     */
    void acceptOwnRead(SegmentWorker worker, TrackingToken from, List<TrackedEvent> batch) {
        lock.lock();
        try {
            if (worker.queue.attached() || !worker.queue.assigned().equals(from)
                    || workers.get(worker.segment) != worker) {
                return;
            }
            if (!batch.isEmpty()) {
                enqueue(worker, batch);
            }
        } finally {
            lock.unlock();
        }
        if (batch.size() < definition.batchSize() || readerCloseTo(worker)) {
            tryAttach(worker);
        }
    }

    private boolean readerCloseTo(SegmentWorker worker) {
        lock.lock();
        try {
            TrackingToken assigned = worker.queue.assigned();
            return readerPosition == null || assigned.compareTo(readerPosition) >= 0
                    || readerPosition.position() - assigned.position()
                    <= (long) REWIND_BATCHES * definition.batchSize();
        } finally {
            lock.unlock();
        }
    }

    /** Queues a worker's events of a batch (those after its assigned token) and a progress mark. Under the lock. */
    private void enqueue(SegmentWorker worker, List<TrackedEvent> batch) {
        int segments = definition.segments();
        for (TrackedEvent tracked : batch) {
            if (worker.queue.isAhead(tracked.token()) && Segmenter.segmentOf(tracked.event().aggregateType(),
                    tracked.event().aggregateId(), segments) == worker.segment) {
                worker.queue.addEvent(tracked);
            }
        }
        worker.queue.markProgress(batch.get(batch.size() - 1));
    }

    // ---- the reader's side (reader thread, under the lock) ----

    /** A read the reader may start: where from, and the generation that must not have changed when it returns. */
    record ReadTicket(TrackingToken from, long generation, long signals) {
    }

    /**
     * Waits until the reader may read: some worker is attached and no attached worker's queue is full.
     *
     * @return where to read from, or null when closing
     * @throws InterruptedException when the reader is interrupted
     */
    @Nullable ReadTicket awaitReadable() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                if (readerPosition != null && !resetting) {
                    boolean any = false;
                    boolean full = false;
                    for (SegmentWorker worker : workers.values()) {
                        if (worker.queue.attached()) {
                            any = true;
                            full |= worker.queue.queuedEvents() > definition.batchSize();
                        }
                    }
                    if (any && !full) {
                        return new ReadTicket(readerPosition, generation, appendSignals.get());
                    }
                }
                readerWake.await(definition.pollInterval().toNanos(), TimeUnit.NANOSECONDS);
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands a batch to the attached workers, unless the reader was moved meanwhile.
     *
     * @return false when the batch was discarded
     */
    boolean dispatch(ReadTicket ticket, List<TrackedEvent> batch) {
        List<SegmentWorker> toRun = new ArrayList<>();
        lock.lock();
        try {
            if (closed || ticket.generation() != generation) {
                return false;
            }
            int segments = definition.segments();
            for (TrackedEvent tracked : batch) {
                SegmentWorker worker = workers.get(Segmenter.segmentOf(tracked.event().aggregateType(),
                        tracked.event().aggregateId(), segments));
                if (worker != null && worker.queue.attached() && worker.queue.isAhead(tracked.token())) {
                    worker.queue.addEvent(tracked);
                }
            }
            TrackedEvent last = batch.get(batch.size() - 1);
            for (SegmentWorker worker : workers.values()) {
                if (worker.queue.attached()) {
                    worker.queue.markProgress(last);
                    if (!worker.queue.isEmpty()) {
                        toRun.add(worker);
                    }
                }
            }
            readerPosition = last.token();
            atHead = batch.size() < definition.batchSize();
            headSignals = ticket.signals();
            headToken = last.token();
            headTimestamp = last.event().timestamp();
        } finally {
            lock.unlock();
        }
        toRun.forEach(SegmentWorker::schedule);
        return true;
    }

    /**
     * Records that the log has nothing after the ticket's token, then waits for an append, a notification, or the
     * poll interval.
     */
    void caughtUp(ReadTicket ticket) throws InterruptedException {
        List<SegmentWorker> toRun = List.of();
        lock.lock();
        try {
            if (ticket.generation() == generation) {
                if (!atHead) {
                    // Workers put off storing their tokens while the reader was behind (SegmentWorker.commit).
                    toRun = attachedWorkers();
                }
                atHead = true;
                headSignals = ticket.signals();
            }
        } finally {
            lock.unlock();
        }
        toRun.forEach(SegmentWorker::schedule);
        lock.lock();
        try {
            long deadline = System.nanoTime() + definition.pollInterval().toNanos();
            readerWaiting = true;
            try {
                while (!closed && appendSignals.get() == ticket.signals() && ticket.generation() == generation) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return;
                    }
                    readerWake.awaitNanos(left);
                }
            } finally {
                readerWaiting = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    private List<SegmentWorker> attachedWorkers() {
        List<SegmentWorker> attached = new ArrayList<>();
        for (SegmentWorker worker : workers.values()) {
            if (worker.queue.attached()) {
                attached.add(worker);
            }
        }
        return attached;
    }

    /** Waits after a failed read, unless closing. */
    void pause(Duration delay) throws InterruptedException {
        lock.lock();
        try {
            if (!closed) {
                readerWake.await(delay.toNanos(), TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return true when the reader's last read found the end of what the log lets it read */
    boolean readerAtHead() {
        lock.lock();
        try {
            return atHead && readerPosition != null && !resetting && !closed;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    private SegmentStatus statusOf(SegmentWorker worker, int deadLetterCount) {
        TrackingToken handled = worker.handled();
        SegmentState state = worker.state();
        boolean live = false;
        if (resetting) {
            state = SegmentState.PAUSED;
        } else if (state == SegmentState.CATCHING_UP) {
            // Whether a turn is running does not count: a turn that handles events has taken them from the queue
            // and moves the handled token past them only once they are handled (committed, in a transactional
            // delivery), so the token check below keeps it out of LIVE; a turn that only stores the token (a store
            // put off, falling due) left a LIVE segment CATCHING_UP with no lag, which monitoring saw as a flicker.
            live = worker.queue.attached() && worker.queue.isEmpty() && atHead && headSignals == appendSignals.get()
                    && readerPosition != null
                    && handled.compareTo(readerPosition) >= 0;
            state = live ? SegmentState.LIVE : SegmentState.CATCHING_UP;
        }
        long lagEvents;
        Duration lagTime;
        if (live) {
            lagEvents = 0;
            lagTime = Duration.ZERO;
        } else {
            long head = Math.max(headToken == null ? 0 : headToken.position(),
                    readerPosition == null ? 0 : readerPosition.position());
            lagEvents = Math.max(0, head - handled.position());
            Instant handledAt = worker.handledTimestamp();
            lagTime = headTimestamp == null || handledAt == null ? Duration.ZERO
                    : Duration.between(handledAt, headTimestamp);
            if (lagTime.isNegative()) {
                lagTime = Duration.ZERO;
            }
        }
        return new SegmentStatus(worker.segment, state, owner, worker.epoch, handled, lagEvents, lagTime,
                worker.failure(), deadLetterCount);
    }
}
