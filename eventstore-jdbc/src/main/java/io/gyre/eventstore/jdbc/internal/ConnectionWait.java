package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Bounds a waiting caller's wait for a pooled connection by its deadline, when the caller writes its own append
 * ({@link GroupCommit#submitWithin}). {@link javax.sql.DataSource#getConnection()} takes no timeout: a full pool
 * would hold the caller up to the pool's own wait (HikariCP's {@code connectionTimeout}, 30 s by default), far past a
 * deadline of half a second.
 *
 * <p>The caller calls {@code getConnection} on its own thread, as before, and a watchdog thread interrupts it if its
 * deadline passes while it is still inside: pools wait for a connection interruptibly and give up with an
 * {@link SQLException} (HikariCP: "Interrupted during connection acquisition"; DBCP's likewise), and the
 * caller then clears the interrupt again. Two other ways were rejected: opening the connection on another thread and
 * waiting for it with a timeout costs, on every append, the two thread switches that writing on the caller's thread
 * saves; asking the pool whether a connection is free needs the pool's own API (the store takes any DataSource).
 * The interrupt only ever reaches a thread inside {@code getConnection} (a lock-free hand-shake below), never one
 * that runs a statement. Limit, stated honestly: a data source that ignores interrupts (one that opens a new physical
 * connection on the caller's thread, whose socket connect is not interruptible) still holds the caller until it
 * returns; the connection is then closed unused. Used on PostgreSQL only ({@link CallerDeadline#applies}): on H2
 * callers never write, and an interrupt can close an embedded database's file.
 *
 * <p>The watchdog costs a waiting caller two updates of a concurrent set, no thread switch: it is one daemon thread
 * that looks at the waiting callers every {@link #TICK_MILLIS} ms while any may be waiting, so a caller is freed at
 * most that much after its deadline, and that leaves after a second without any. Thread-safe. Internal: not part of
 * Gyre's API.
 */
final class ConnectionWait {

    /** How often the watchdog looks at the waiting callers: how late after its deadline a caller may be freed. */
    static final long TICK_MILLIS = 10;
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final Watchdog WATCHDOG = new Watchdog();

    private ConnectionWait() {
    }

    /**
     * @param connections where connections come from
     * @param deadline    the waiting caller's
     * @return a connection, got before the deadline (or at most a tick after it)
     * @throws DeadlinePassed when the deadline passed while the caller waited for it; no connection is held
     * @throws SQLException   when the data source failed for another reason
     */
    static Connection open(Connections connections, Deadline deadline) throws SQLException, DeadlinePassed {
        if (deadline.hasPassed()) {
            throw new DeadlinePassed(null);
        }
        Waiter waiter = WATCHDOG.enter(Thread.currentThread(), deadline);
        Connection connection = null;
        SQLException failure = null;
        RuntimeException unexpected = null;
        try {
            connection = connections.open();
        } catch (SQLException e) {
            failure = e;
        } catch (RuntimeException e) {
            unexpected = e;
        }
        boolean interrupted = WATCHDOG.leave(waiter);
        if (interrupted) {
            if (connection != null) {
                // Got it after all, but later than the deadline: the caller has no time left to write with it.
                try {
                    connection.close();
                } catch (SQLException ignored) {
                    // Returned to the pool or not, the caller writes nothing with it.
                }
            }
            DeadlinePassed passed = new DeadlinePassed(failure);
            if (unexpected != null) {
                passed.addSuppressed(unexpected);
            }
            throw passed;
        }
        if (failure != null) {
            throw failure;
        }
        if (unexpected != null) {
            throw unexpected;
        }
        return connection;
    }

    /**
     * The caller's deadline passed while it waited for a pooled connection, and it was freed: it holds none.
     * Checked, so that each caller of {@link #open} says what the caller's request becomes.
     */
    static final class DeadlinePassed extends Exception {
        private static final long serialVersionUID = 1L;

        /** @param poolFailure what the data source threw when it was interrupted, or null */
        DeadlinePassed(@Nullable SQLException poolFailure) {
            super("no connection came from the pool before the caller's deadline", poolFailure);
        }
    }

    /** A caller inside {@code getConnection}, and the hand-shake that lets only that call be interrupted. */
    private static final class Waiter {
        static final int WAITING = 0;
        static final int LEFT = 1;
        static final int INTERRUPTING = 2;
        static final int INTERRUPTED = 3;

        final Thread thread;
        final Deadline deadline;
        final AtomicInteger state = new AtomicInteger(WAITING);

        Waiter(Thread thread, Deadline deadline) {
            this.thread = thread;
            this.deadline = deadline;
        }

        /** Watchdog side: interrupts the caller only while it has not left {@code getConnection}. */
        void interruptIfWaiting() {
            if (state.compareAndSet(WAITING, INTERRUPTING)) {
                thread.interrupt();
                state.set(INTERRUPTED);
            }
        }

        /**
         * Caller side, once {@code getConnection} returned or threw.
         *
         * @return true when the watchdog interrupted it; the interrupt is cleared again
         */
        boolean leave() {
            if (state.compareAndSet(WAITING, LEFT)) {
                return false;
            }
            // The watchdog is interrupting this thread, or has: wait until it is done, so that its interrupt cannot
            // land after it has been cleared, on whatever the caller does next.
            while (state.get() != INTERRUPTED) {
                Thread.onSpinWait();
            }
            // The pool set the status again when it gave up ("interrupted during connection acquisition"), or the
            // interrupt came just as it returned a connection; either way it was the watchdog's, not the caller's.
            // (An interrupt of the caller's own that came in the same moment is cleared with it.)
            Thread.interrupted();
            return true;
        }
    }

    /** One daemon thread for the whole JVM, running only while callers may be waiting. */
    private static final class Watchdog implements Runnable {
        private final Set<Waiter> waiting = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean running = new AtomicBoolean();

        Waiter enter(Thread thread, Deadline deadline) {
            Waiter waiter = new Waiter(thread, deadline);
            waiting.add(waiter);
            startIfNeeded();
            return waiter;
        }

        boolean leave(Waiter waiter) {
            waiting.remove(waiter);
            return waiter.leave();
        }

        private void startIfNeeded() {
            if (!running.get() && running.compareAndSet(false, true)) {
                Thread thread = new Thread(this, "gyre-eventstore-connection-wait");
                thread.setDaemon(true);
                thread.start();
            }
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS));
                if (waiting.isEmpty()) {
                    if (System.nanoTime() - idleSince < IDLE_NANOS) {
                        continue;
                    }
                    running.set(false);
                    // A caller that entered after the check above, and saw this thread still running, is looked
                    // after by this thread again.
                    if (waiting.isEmpty() || !running.compareAndSet(false, true)) {
                        return;
                    }
                }
                idleSince = System.nanoTime();
                for (Waiter waiter : waiting) {
                    if (waiter.deadline.hasPassed()) {
                        waiter.interruptIfWaiting();
                    }
                }
            }
        }
    }
}
