package io.gyre.command.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Capacity for commands on one node, bounded per node and per aggregate, that makes callers wait instead of
 * refusing them. An entry offered when there is room is admitted at once; otherwise it waits, and waiting entries
 * are admitted in the order they were offered as room appears:
 * <ul>
 *   <li>at most {@code nodeLimit} entries are admitted at once; the others wait in one first-come queue;</li>
 *   <li>at most {@code keyLimit} of them belong to one key (one aggregate). An entry whose key is full waits in its
 *       key's own queue, where it holds up nobody else: a hot aggregate slows only its own callers;</li>
 *   <li>entries of one key are admitted in the order they were offered, whichever queue they waited in.</li>
 * </ul>
 * Admission never fails and never times out: an entry whose caller gave up is admitted in its turn like any other,
 * and its owner drops it then (the command bus withdraws late commands). Every admitted entry must be
 * {@linkplain #release(Object) released} exactly once.
 *
 * <p>Thread-safe: one lock guards the counts and queues, held for a few operations per call. The admit action runs
 * under it, so that two entries of one key admitted by two threads reach their aggregate's queue in the order they
 * were admitted; it must therefore be short, must not block, must not throw, and must not call back into this
 * object (queueing the entry on an executor is what it is for). Internal: not part of Gyre's API.
 *
 * @param <E> the entries
 */
public final class Admission<E> {

    private final int nodeLimit;
    private final int keyLimit;
    private final java.util.function.Function<E, Object> keyOf;
    private final Consumer<E> admit;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<E> nodeQueue = new ArrayDeque<>();
    private final Map<Object, Key<E>> keys = new HashMap<>();
    private int admitted;
    private int waiting;

    /**
     * @param nodeLimit entries admitted at once, 1 or more
     * @param keyLimit  entries of one key admitted at once, 1 to {@code nodeLimit}
     * @param keyOf     the key of an entry
     * @param admit     queues an admitted entry for running; called with the lock held, on the offering or
     *                  releasing thread; never throws
     */
    public Admission(int nodeLimit, int keyLimit, java.util.function.Function<E, Object> keyOf, Consumer<E> admit) {
        if (nodeLimit < 1) {
            throw new IllegalArgumentException("nodeLimit must be 1 or more, but was " + nodeLimit);
        }
        if (keyLimit < 1 || keyLimit > nodeLimit) {
            throw new IllegalArgumentException("keyLimit must be between 1 and nodeLimit (" + nodeLimit + "), but was "
                    + keyLimit);
        }
        this.nodeLimit = nodeLimit;
        this.keyLimit = keyLimit;
        this.keyOf = Objects.requireNonNull(keyOf, "keyOf");
        this.admit = Objects.requireNonNull(admit, "admit");
    }

    /** The admitted and waiting entries of one key. */
    private static final class Key<E> {
        int admitted;
        /** Entries of this key in the node queue: while there are any, later entries queue behind them there. */
        int inNodeQueue;
        @Nullable ArrayDeque<E> waiting;

        boolean hasWaiting() {
            return waiting != null && !waiting.isEmpty();
        }

        void await(E entry) {
            if (waiting == null) {
                waiting = new ArrayDeque<>(4);
            }
            waiting.add(entry);
        }

        boolean idle() {
            return admitted == 0 && inNodeQueue == 0 && !hasWaiting();
        }
    }

    /**
     * Admits an entry now if there is room, or queues it.
     *
     * @param entry the entry
     */
    public void offer(E entry) {
        Object key = keyOf.apply(entry);
        lock.lock();
        try {
            Key<E> state = keys.computeIfAbsent(key, k -> new Key<>());
            if (state.inNodeQueue > 0) {
                nodeQueue.add(entry);
                state.inNodeQueue++;
                waiting++;
            } else if (state.hasWaiting() || state.admitted >= keyLimit) {
                state.await(entry);
                waiting++;
            } else if (admitted >= nodeLimit || !nodeQueue.isEmpty()) {
                nodeQueue.add(entry);
                state.inNodeQueue++;
                waiting++;
            } else {
                admitted++;
                state.admitted++;
                admit.accept(entry);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives back the room of an admitted entry, admitting the next waiting ones.
     *
     * @param entry an admitted entry that finished or was dropped
     */
    public void release(E entry) {
        Object key = keyOf.apply(entry);
        lock.lock();
        try {
            Key<E> state = keys.get(key);
            if (state == null || state.admitted == 0) {
                throw new IllegalStateException("released an entry of key " + key + " that was not admitted");
            }
            state.admitted--;
            admitted--;
            if (state.hasWaiting()) {
                // The entries waiting for this key have already passed the node queue: this key's room goes to them.
                E next = Objects.requireNonNull(state.waiting).poll();
                state.admitted++;
                admitted++;
                waiting--;
                admit.accept(next);
            } else {
                while (admitted < nodeLimit && !nodeQueue.isEmpty()) {
                    E head = nodeQueue.poll();
                    Key<E> headState = keys.get(keyOf.apply(head));
                    headState.inNodeQueue--;
                    if (headState.hasWaiting() || headState.admitted >= keyLimit) {
                        headState.await(head);
                        continue;
                    }
                    headState.admitted++;
                    admitted++;
                    waiting--;
                    admit.accept(head);
                }
            }
            if (state.idle()) {
                keys.remove(key);
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return entries admitted and not released */
    public int admitted() {
        lock.lock();
        try {
            return admitted;
        } finally {
            lock.unlock();
        }
    }

    /** @return entries waiting for room */
    public int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** @return the most entries admitted at once */
    public int nodeLimit() {
        return nodeLimit;
    }

    /** @return the most entries of one key admitted at once */
    public int keyLimit() {
        return keyLimit;
    }
}
