package io.gyre.command.internal;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks with the same key one at a time, in submission order, and tasks with different keys in parallel
 * on a shared executor. Each key with queued work has a mailbox; at most one pool task drains a mailbox at a
 * time, and the mailbox disappears when empty, so idle keys cost nothing and there is no thread per key.
 * A busy mailbox yields its thread after a few tasks so one hot key cannot starve the others.
 * Internal: not part of Gyre's API.
 */
public final class KeyedSerialExecutor {

    private static final Logger log = LoggerFactory.getLogger(KeyedSerialExecutor.class);
    private static final int TASKS_PER_TURN = 16;

    private final Executor pool;
    private final ConcurrentHashMap<Object, Mailbox> mailboxes = new ConcurrentHashMap<>();

    /**
     * @param pool runs the mailboxes; must not run a task on the submitting thread
     */
    public KeyedSerialExecutor(Executor pool) {
        this.pool = Objects.requireNonNull(pool, "pool");
    }

    /**
     * Queues a task behind every earlier task of the same key.
     *
     * @param key  the key, an aggregate (type and id)
     * @param task the task
     * @throws java.util.concurrent.RejectedExecutionException when the pool refuses work; the task is dropped
     */
    public void execute(Object key, Runnable task) {
        Mailbox[] created = new Mailbox[1];
        mailboxes.compute(key, (k, mailbox) -> {
            if (mailbox == null) {
                mailbox = new Mailbox(k);
                created[0] = mailbox;
            }
            mailbox.tasks.add(task);
            return mailbox;
        });
        if (created[0] != null) {
            try {
                pool.execute(created[0]);
            } catch (RuntimeException e) {
                mailboxes.remove(key, created[0]);
                throw e;
            }
        }
    }

    /** @return the number of keys with queued or running work */
    public int activeKeys() {
        return mailboxes.size();
    }

    private final class Mailbox implements Runnable {

        private final Object key;
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        Mailbox(Object key) {
            this.key = key;
        }

        @Override
        public void run() {
            for (int i = 0; i < TASKS_PER_TURN; i++) {
                Runnable next = next();
                if (next == null) {
                    return;
                }
                try {
                    next.run();
                } catch (Throwable e) {
                    // A task that throws must not strand the tasks queued behind it.
                    log.error("Task for key '{}' threw", key, e);
                }
            }
            try {
                pool.execute(this);
            } catch (RejectedExecutionException e) {
                log.warn("Executor shut down; {} tasks for key '{}' were dropped", tasks.size(), key);
            }
        }

        /** Takes the next task, or removes the mailbox when none is left, atomically with {@link #execute}. */
        private Runnable next() {
            Runnable[] next = new Runnable[1];
            mailboxes.computeIfPresent(key, (k, mailbox) -> {
                next[0] = mailbox.tasks.poll();
                return next[0] == null ? null : mailbox;
            });
            return next[0];
        }
    }
}
