package io.gyre.processing.internal;

import io.gyre.eventstore.ReadAllEvents;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.Delivery;
import io.gyre.processing.OwnedSegments;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import io.gyre.processing.TrackingProcessor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tracking processor on this node: the segments it owns ({@link SegmentWorker}s), the shared reader that reads
 * the log once for all of them ({@link LogReader}), and the commands and status of the processor.
 *
 * <p>Reading once for every segment: the reader stands at a token {@code R} and hands each event of a batch to the
 * queue of its segment's worker, if that worker is <em>attached</em>, followed by a progress mark at the batch's end
 * so that segments with no event in it can move their token too. A worker that falls out (it retries a failing
 * event, stops, or has just been claimed at a token behind {@code R}) is <em>detached</em>: the reader skips it, and
 * it reads the log on its own from its last token until it reaches {@code R}, then attaches again. Each worker keeps
 * the token of the last item it was given and accepts only later events, so an event is never queued twice, whoever
 * read it. The reader moves back to a joining worker's token when that is close behind (a few batches), and reads
 * for the first worker to attach from that worker's token; it waits while any attached worker's queue is full,
 * which is the back-pressure that bounds memory.
 *
 * <p>Ownership changes, claims and resets run one at a time on this processor's control thread; segment work runs
 * on its pool, one task per worker at a time. The lock below guards the queues, {@code R} and attachment.
 * Internal: not part of Gyre's API.
 */
public final class TrackingRuntime {

    private static final Logger log = LoggerFactory.getLogger(TrackingRuntime.class);
    /** How far, in batches, the reader moves back for a worker that joins behind it, instead of leaving it alone. */
    private static final int REWIND_BATCHES = 4;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    final TrackingProcessor definition;
    final String name;
    final ReadAllEvents globalLog;
    final EventDispatcher dispatcher;
    final TokenStore tokens;
    final @Nullable ProcessingTransactions transactions;
    final @Nullable DeadLetterStore deadLetters;
    final String owner;
    final Clock clock;
    final ExecutorService pool;
    final ScheduledExecutorService timer;
    private final ExecutorService control;
    private final SegmentOwnership ownership;
    private final LogReader reader;

    final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the reader may have something to do: a worker attached or drained, the log grew, closing. */
    final Condition readerWake = lock.newCondition();
    final AtomicLong appendSignals = new AtomicLong();
    volatile boolean readerWaiting;

    // Guarded by lock.
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
    boolean closed;

    private SegmentOwnership.@Nullable Registration registration;

    /**
     * @param definition the processor
     * @param log        the global log
     * @param dispatcher calls its handlers
     * @param tokens     its token store (the transactional delivery's, if it has one)
     * @param deadLetters the dead-letter store, null when there is none
     * @param ownership  decides which segments this node runs
     * @param clock      for status and dead letters
     * @param timer      the node's timer for retries and back-offs
     * @param nodeName   the node's name, for thread names
     */
    public TrackingRuntime(TrackingProcessor definition, ReadAllEvents log, EventDispatcher dispatcher,
                           TokenStore tokens, @Nullable DeadLetterStore deadLetters, SegmentOwnership ownership,
                           Clock clock, ScheduledExecutorService timer, String nodeName) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.name = definition.name();
        this.globalLog = Objects.requireNonNull(log, "log");
        this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.transactions = definition.delivery() instanceof Delivery.Transactional transactional
                ? transactional.transactions() : null;
        this.deadLetters = deadLetters;
        this.ownership = Objects.requireNonNull(ownership, "ownership");
        this.owner = ownership.owner();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timer = Objects.requireNonNull(timer, "timer");
        String prefix = nodeName + "-" + name;
        this.pool = Executors.newFixedThreadPool(definition.threads(), Threads.daemon(prefix + "-segment-"));
        this.control = Executors.newSingleThreadExecutor(Threads.daemon(prefix + "-control-"));
        this.reader = new LogReader(this, prefix + "-reader");
    }

    /** Starts the reader and follows the segments this node owns. */
    public void start() {
        reader.start();
        registration = ownership.follow(name, definition.segments(),
                owned -> control.execute(() -> ownershipChanged(owned)));
    }

    /** @return the processor's name */
    public String name() {
        return name;
    }

    /** Wakes the reader after an append: it reads at once instead of at its next poll. */
    public void appended() {
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

    // ---- ownership (control thread) ----

    private void ownershipChanged(OwnedSegments owned) {
        List<SegmentWorker> lost = new ArrayList<>();
        List<SegmentWorker> gained = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
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
                    log.warn("Processor '{}' was given segment {} but has {} segments; ignored", name, segment,
                            definition.segments());
                } else if (!workers.containsKey(segment)) {
                    SegmentWorker worker = new SegmentWorker(this, segment, epoch);
                    workers.put(segment, worker);
                    gained.add(worker);
                }
            });
        } finally {
            lock.unlock();
        }
        for (SegmentWorker worker : lost) {
            worker.stop(false);
            log.info("Processor '{}' segment {} no longer runs on {} (epoch {}), handled up to {}", name,
                    worker.segment, owner, worker.epoch, worker.handled());
        }
        for (SegmentWorker worker : gained) {
            claim(worker, 1);
        }
    }

    private void claim(SegmentWorker worker, int attempt) {
        if (!isCurrent(worker)) {
            return;
        }
        try {
            tokens.initialize(name, definition.segments());
            TrackingToken token = tokens.claim(name, worker.segment, owner, worker.epoch);
            log.info("Processor '{}' segment {} now runs on {} (epoch {}) from {}", name, worker.segment, owner,
                    worker.epoch, token);
            worker.start(token);
        } catch (StaleSegmentOwnerException e) {
            worker.fenced(e);
        } catch (RuntimeException e) {
            Duration delay = definition.errorPolicy().backoffAfter(Math.min(attempt, 8),
                    java.util.concurrent.ThreadLocalRandom.current());
            log.warn("Processor '{}' could not claim segment {} (attempt {}); trying again in {} ms", name,
                    worker.segment, attempt, delay.toMillis(), e);
            timer.schedule(() -> control.execute(() -> claim(worker, attempt + 1)), delay.toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private boolean isCurrent(SegmentWorker worker) {
        lock.lock();
        try {
            return !closed && workers.get(worker.segment) == worker;
        } finally {
            lock.unlock();
        }
    }

    // ---- the queues (any thread, under the lock) ----

    /** @return the reader's position, for a worker catching up alone */
    @Nullable TrackingToken readerPosition() {
        lock.lock();
        try {
            return readerPosition;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets a worker join the reader: at once when it stands at or after the reader, or when it is the only one (the
     * reader then starts from its token), or after moving the reader back when it is close behind.
     */
    void tryAttach(SegmentWorker worker) {
        lock.lock();
        try {
            if (worker.attached || workers.get(worker.segment) != worker || !worker.runnable()) {
                return;
            }
            TrackingToken position = worker.assigned;
            boolean anyAttached = workers.values().stream().anyMatch(other -> other.attached);
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
            worker.attached = true;
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes a worker out of the reader's hands, keeping what is queued. */
    void detach(SegmentWorker worker) {
        lock.lock();
        try {
            worker.attached = false;
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes a worker out of the reader's hands and drops its queue: it continues from its handled token. */
    void detachAndClear(SegmentWorker worker) {
        lock.lock();
        try {
            worker.attached = false;
            worker.queue.clear();
            worker.queuedEvents = 0;
            worker.assigned = worker.handled();
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
            List<Item> chunk = new ArrayList<>(Math.min(worker.queue.size(), maxEvents + 1));
            int events = 0;
            while (!worker.queue.isEmpty()) {
                Item next = worker.queue.peekFirst();
                if (next instanceof Item.Event) {
                    if (events == maxEvents) {
                        break;
                    }
                    events++;
                }
                chunk.add(worker.queue.pollFirst());
            }
            worker.queuedEvents -= events;
            if (worker.attached && worker.queuedEvents <= definition.batchSize()) {
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
            for (int i = items.size() - 1; i >= 0; i--) {
                Item item = items.get(i);
                worker.queue.addFirst(item);
                if (item instanceof Item.Event) {
                    worker.queuedEvents++;
                }
            }
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
     * Queues what a detached worker read on its own, if it is still detached at the token it read from, then tries
     * to attach it.
     */
    void acceptOwnRead(SegmentWorker worker, TrackingToken from, List<TrackedEvent> batch) {
        lock.lock();
        try {
            if (worker.attached || !worker.assigned.equals(from) || workers.get(worker.segment) != worker) {
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
            return readerPosition == null || worker.assigned.compareTo(readerPosition) >= 0
                    || readerPosition.position() - worker.assigned.position()
                    <= (long) REWIND_BATCHES * definition.batchSize();
        } finally {
            lock.unlock();
        }
    }

    /** Queues a worker's events of a batch (those after its assigned token) and a progress mark. Under the lock. */
    private void enqueue(SegmentWorker worker, List<TrackedEvent> batch) {
        int segments = definition.segments();
        for (TrackedEvent tracked : batch) {
            if (tracked.token().compareTo(worker.assigned) > 0 && Segmenter.segmentOf(tracked.event().aggregateType(),
                    tracked.event().aggregateId(), segments) == worker.segment) {
                worker.queue.addLast(new Item.Event(tracked));
                worker.queuedEvents++;
                worker.assigned = tracked.token();
            }
        }
        TrackedEvent last = batch.get(batch.size() - 1);
        if (last.token().compareTo(worker.assigned) > 0) {
            worker.queue.addLast(new Item.Progress(last.token(), last.event().timestamp()));
            worker.assigned = last.token();
        }
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
                        if (worker.attached) {
                            any = true;
                            full |= worker.queuedEvents > definition.batchSize();
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
                if (worker != null && worker.attached && tracked.token().compareTo(worker.assigned) > 0) {
                    worker.queue.addLast(new Item.Event(tracked));
                    worker.queuedEvents++;
                    worker.assigned = tracked.token();
                }
            }
            TrackedEvent last = batch.get(batch.size() - 1);
            for (SegmentWorker worker : workers.values()) {
                if (worker.attached) {
                    if (last.token().compareTo(worker.assigned) > 0) {
                        worker.queue.addLast(new Item.Progress(last.token(), last.event().timestamp()));
                        worker.assigned = last.token();
                    }
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
        lock.lock();
        try {
            if (ticket.generation() == generation) {
                atHead = true;
                headSignals = ticket.signals();
            }
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

    // ---- commands ----

    /**
     * @param after the token to replay after
     * @return completes when the tokens moved
     */
    public CompletableFuture<Void> reset(TrackingToken after) {
        Objects.requireNonNull(after, "after");
        CompletableFuture<Void> done = new CompletableFuture<>();
        control.execute(() -> {
            try {
                doReset(after);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private void doReset(TrackingToken after) throws Throwable {
        List<SegmentWorker> current;
        lock.lock();
        try {
            current = new ArrayList<>(workers.values());
            List<Integer> missing = new ArrayList<>();
            for (int segment = 0; segment < definition.segments(); segment++) {
                SegmentWorker worker = workers.get(segment);
                if (worker == null || !worker.claimed()) {
                    missing.add(segment);
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalStateException("Processor '" + name + "' cannot be reset from " + owner + ": it "
                        + "does not hold segments " + missing + " of " + definition.segments() + " (another node "
                        + "runs them, or they are being claimed or were fenced); a reset moves every token, so run it "
                        + "where all segments are held");
            }
            resetting = true;
            generation++;
            readerPosition = null;
            for (SegmentWorker worker : current) {
                workers.remove(worker.segment);
                detachAndClear(worker);
            }
        } finally {
            lock.unlock();
        }
        List<SegmentWorker> restarted = new ArrayList<>();
        try {
            for (SegmentWorker worker : current) {
                worker.stop(false);
            }
            for (SegmentWorker worker : current) {
                worker.awaitStopped(STOP_TIMEOUT);
            }
            Map<Integer, TrackingToken> from = new TreeMap<>();
            try {
                moveTokens(current, after);
                for (SegmentWorker worker : current) {
                    from.put(worker.segment, after);
                }
                if (deadLetters != null) {
                    deadLetters.clear(name);
                }
                log.info("Processor '{}' was reset on {} to replay the log after {}", name, owner, after);
            } catch (Throwable e) {
                for (SegmentWorker worker : current) {
                    from.put(worker.segment, worker.handled());
                }
                throw e;
            } finally {
                lock.lock();
                try {
                    resetting = false;
                    for (SegmentWorker worker : current) {
                        SegmentWorker fresh = new SegmentWorker(this, worker.segment, worker.epoch);
                        workers.put(worker.segment, fresh);
                        restarted.add(fresh);
                    }
                } finally {
                    lock.unlock();
                }
                for (SegmentWorker fresh : restarted) {
                    fresh.start(from.get(fresh.segment));
                }
            }
        } finally {
            lock.lock();
            try {
                resetting = false;
                readerWake.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void moveTokens(List<SegmentWorker> segments, TrackingToken after) throws Throwable {
        if (transactions != null) {
            try (ProcessingTransaction transaction = transactions.begin()) {
                dispatcher.reset(transaction.resource());
                for (SegmentWorker worker : segments) {
                    transaction.updateToken(name, worker.segment, owner, worker.epoch, after);
                }
                transaction.commit();
            }
        } else {
            dispatcher.reset(null);
            for (SegmentWorker worker : segments) {
                tokens.update(name, worker.segment, owner, worker.epoch, after);
            }
        }
    }

    /** @return completes with what the retry did, on every segment this node runs */
    public CompletableFuture<DeadLetterRetry> retryDeadLetters() {
        if (deadLetters == null) {
            return CompletableFuture.completedFuture(new DeadLetterRetry(0, 0));
        }
        List<CompletableFuture<DeadLetterRetry>> parts = new ArrayList<>();
        lock.lock();
        try {
            for (SegmentWorker worker : workers.values()) {
                parts.add(worker.retryDeadLetters());
            }
        } finally {
            lock.unlock();
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(ignored -> {
            int handled = 0;
            int remaining = 0;
            for (CompletableFuture<DeadLetterRetry> part : parts) {
                handled += part.join().handled();
                remaining += part.join().remaining();
            }
            return new DeadLetterRetry(handled, remaining);
        });
    }

    /** Restarts the stopped segments this node runs. */
    public void resume() {
        lock.lock();
        try {
            workers.values().forEach(SegmentWorker::resume);
        } finally {
            lock.unlock();
        }
    }

    // ---- status ----

    /** @return the processor's status as this node sees it */
    public ProcessorStatus status() {
        Map<Integer, SegmentToken> stored = new HashMap<>();
        try {
            for (SegmentToken row : tokens.tokens(name)) {
                stored.put(row.segment(), row);
            }
        } catch (RuntimeException e) {
            log.debug("Processor '{}' status without stored tokens: the token store failed", name, e);
        }
        Map<Integer, Integer> letters = Map.of();
        if (deadLetters != null) {
            try {
                letters = deadLetters.counts(name);
            } catch (RuntimeException e) {
                log.debug("Processor '{}' status without dead letters: the store failed", name, e);
            }
        }
        Instant now = clock.instant();
        List<SegmentStatus> segments = new ArrayList<>();
        lock.lock();
        try {
            for (int segment = 0; segment < definition.segments(); segment++) {
                SegmentWorker worker = workers.get(segment);
                SegmentToken row = stored.get(segment);
                int dead = letters.getOrDefault(segment, 0);
                if (worker == null && !ownershipKnown) {
                    segments.add(new SegmentStatus(segment, SegmentState.CLAIMING, row == null ? null : row.owner(),
                            row == null ? 0 : row.epoch(), row == null ? null : row.token(), -1, null, null, dead));
                } else if (worker == null) {
                    segments.add(new SegmentStatus(segment, SegmentState.NOT_OWNED, row == null ? null : row.owner(),
                            row == null ? 0 : row.epoch(), row == null ? null : row.token(), -1, null, null, dead));
                } else {
                    segments.add(statusOf(worker, dead, now));
                }
            }
        } finally {
            lock.unlock();
        }
        return new ProcessorStatus(name, ProcessorStatus.Kind.TRACKING, segments);
    }

    /** Under the lock. */
    private SegmentStatus statusOf(SegmentWorker worker, int deadLetterCount, Instant now) {
        TrackingToken handled = worker.handled();
        SegmentState state = worker.state();
        boolean live = false;
        if (resetting) {
            state = SegmentState.PAUSED;
        } else if (state == SegmentState.CATCHING_UP) {
            live = worker.attached && worker.queue.isEmpty() && atHead && headSignals == appendSignals.get()
                    && readerPosition != null
                    && handled.compareTo(readerPosition) >= 0 && !worker.busy();
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

    // ---- lifecycle ----

    /**
     * Stops the reader and every segment, storing each segment's progress and letting go of it.
     *
     * @param timeout how long to wait for running handlers
     */
    public void close(Duration timeout) {
        List<SegmentWorker> current;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            current = new ArrayList<>(workers.values());
            workers.clear();
            current.forEach(worker -> worker.attached = false);
            readerWake.signalAll();
        } finally {
            lock.unlock();
        }
        if (registration != null) {
            registration.close();
        }
        reader.stop(timeout);
        control.shutdown();
        for (SegmentWorker worker : current) {
            worker.stop(true);
        }
        for (SegmentWorker worker : current) {
            try {
                worker.awaitStopped(timeout);
            } catch (RuntimeException e) {
                log.warn("Processor '{}' segment {} did not stop within {}", name, worker.segment, timeout, e);
            }
        }
        pool.shutdown();
        try {
            control.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
            pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
