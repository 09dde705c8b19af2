package io.gyre.command.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks with the same key one at a time, in submission order, and tasks with different keys in parallel
 * on a shared executor. Each key with queued work has a mailbox; at most one pool task drains a mailbox at a
 * time, and the mailbox disappears when empty, so idle keys cost nothing and there is no thread per key.
 * A busy mailbox yields its thread after a few tasks so one hot key cannot starve the others.
 *
 * <p>A task may finish later than it returns ({@link #executeAsync}): it returns a stage, and its key's next task
 * waits until that stage completes, while the thread goes back to the pool and runs other keys. The mailbox then
 * resumes on a pool thread, never on the thread that completed the stage (a store's writer, say), so the next task
 * of the key never runs there. Internal: not part of Gyre's API.
 */
public final class KeyedSerialExecutor {

    private static final Logger log = LoggerFactory.getLogger(KeyedSerialExecutor.class);
    private static final int TASKS_PER_TURN = 16;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final Executor pool;
    private final ConcurrentHashMap<Object, Mailbox> mailboxes = new ConcurrentHashMap<>();

    /**
     * @param pool runs the mailboxes; must not run a task inside {@code execute} on the submitting thread (it may
     *             run it on that thread later, as {@link CallerRuns} does once the dispatch has returned)
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
        Objects.requireNonNull(task, "task");
        executeAsync(key, () -> {
            task.run();
            return DONE;
        });
    }

    /**
     * Queues a task that finishes when its stage completes, behind every earlier task of the same key: the key's
     * next task starts only after that, but the thread is free for other keys meanwhile.
     *
     * @param key  the key, an aggregate (type and id)
     * @param task starts the work and returns its stage; it should not fail (a failed stage is only logged)
     * @throws java.util.concurrent.RejectedExecutionException when the pool refuses work; the task is dropped
     */
    public void executeAsync(Object key, Supplier<? extends CompletionStage<?>> task) {
        Objects.requireNonNull(task, "task");
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
        /** Sized for the usual aggregate, with a command or two queued at once (the default would be 16 slots). */
        private final ArrayDeque<Supplier<? extends CompletionStage<?>>> tasks = new ArrayDeque<>(2);

        Mailbox(Object key) {
            this.key = key;
        }

        @Override
        public void run() {
            // A waiting caller (CallerRuns) runs its own command, the first task, and no other: what other senders
            // queued behind it meanwhile goes to the workers, or the caller would answer only after their commands.
            int turn = CallerRuns.isCallerRunning() ? 1 : TASKS_PER_TURN;
            for (int i = 0; i < turn; i++) {
                Supplier<? extends CompletionStage<?>> next = next();
                if (next == null) {
                    return;
                }
                CompletionStage<?> stage;
                try {
                    stage = next.get();
                } catch (Throwable e) {
                    // A task that throws must not strand the tasks queued behind it.
                    log.error("Task for key '{}' threw", key, e);
                    continue;
                }
                if (!(stage instanceof CompletableFuture<?> future && future.isDone())) {
                    // The key's turn stays held until the stage completes; this thread goes back to the pool.
                    stage.whenComplete((result, failure) -> {
                        if (failure != null) {
                            log.error("Task for key '{}' failed", key, failure);
                        }
                        if (!removeIfIdle()) {
                            resume();
                        }
                    });
                    return;
                }
            }
            if (!removeIfIdle()) {
                resume();
            }
        }

        /** Runs the mailbox again on a pool thread: after a full turn, or when a task's stage completed. */
        private void resume() {
            try {
                pool.execute(this);
            } catch (RejectedExecutionException e) {
                log.warn("Executor shut down; {} tasks for key '{}' were dropped", tasks.size(), key);
            }
        }

        /**
         * Removes the mailbox when no task is queued, atomically with {@link #execute}: the common case after a
         * task's stage completes (one command per aggregate at a time), which then costs no hand-off to the pool.
         *
         * @return true when the mailbox was removed; false when tasks wait, which a pool thread must run
         */
        private boolean removeIfIdle() {
            boolean[] removed = new boolean[1];
            mailboxes.computeIfPresent(key, (k, mailbox) -> {
                removed[0] = mailbox.tasks.isEmpty();
                return removed[0] ? null : mailbox;
            });
            return removed[0];
        }

        /** Takes the next task (null when none), or removes the mailbox when none is left, atomically with {@link #execute}. */
        private Supplier<? extends CompletionStage<?>> next() {
            List<Supplier<? extends CompletionStage<?>>> next = new ArrayList<>(1);
            mailboxes.computeIfPresent(key, (k, mailbox) -> {
                Supplier<? extends CompletionStage<?>> task = mailbox.tasks.poll();
                if (task == null) {
                    return null;
                }
                next.add(task);
                return mailbox;
            });
            return next.isEmpty() ? null : next.get(0);
        }
    }
}
