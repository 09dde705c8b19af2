package io.gyre.command.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
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
 * of the key never runs there. A task's answer to its caller is given after its turn has ended, so a caller that
 * sends again at once finds the key idle. Internal: not part of Gyre's API.
 */
public final class KeyedSerialExecutor {

    private static final Logger log = LoggerFactory.getLogger(KeyedSerialExecutor.class);
    private static final int TASKS_PER_TURN = 16;
    private static final CompletableFuture<@Nullable Runnable> DONE = CompletableFuture.completedFuture(null);

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
     * <p>The stage's value, when not null, is the task's answer to whoever waits for it, and runs only once the key's
     * turn has ended: the mailbox removed when nothing else is queued, or still held, for the next task, when
     * something is. A caller that sends the key's next task as soon as it is answered so finds the key idle, instead
     * of finding the mailbox of the task that answered it still there (its next task would then go to the pool, two
     * thread switches more, instead of running on a waiting caller's thread, {@link CallerRuns}).
     *
     * @param key  the key, an aggregate (type and id)
     * @param task starts the work and returns its stage, whose value is its answer or null; it should not fail (a
     *             failed stage is only logged)
     * @throws java.util.concurrent.RejectedExecutionException when the pool refuses work; the task is dropped
     */
    public void executeAsync(Object key, Supplier<? extends CompletionStage<? extends @Nullable Runnable>> task) {
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
        private final ArrayDeque<Supplier<? extends CompletionStage<? extends @Nullable Runnable>>> tasks =
                new ArrayDeque<>(2);

        Mailbox(Object key) {
            this.key = key;
        }

        @Override
        public void run() {
            // A waiting caller (CallerRuns) runs its own command, the first task, and no other: what other senders
            // queued behind it meanwhile goes to the workers, or the caller would answer only after their commands.
            int turn = CallerRuns.isCallerRunning() ? 1 : TASKS_PER_TURN;
            // The answer of a task that finished before it returned: given once the next task is taken or the
            // mailbox removed, so that its receiver never finds the key busy with a task that has already finished.
            Runnable answer = null;
            for (int i = 0; i < turn; i++) {
                Supplier<? extends CompletionStage<? extends @Nullable Runnable>> next = next();
                answer(answer);
                answer = null;
                if (next == null) {
                    return;
                }
                CompletionStage<? extends @Nullable Runnable> stage;
                try {
                    stage = next.get();
                } catch (Throwable e) {
                    // A task that throws must not strand the tasks queued behind it.
                    log.error("Task for key '{}' threw", key, e);
                    continue;
                }
                if (stage instanceof CompletableFuture<? extends @Nullable Runnable> future && future.isDone()) {
                    answer = answerOf(future);
                    continue;
                }
                // The key's turn stays held until the stage completes; this thread goes back to the pool.
                stage.whenComplete((value, failure) -> {
                    if (failure != null) {
                        log.error("Task for key '{}' failed", key, failure);
                    }
                    endTurn(value);
                });
                return;
            }
            endTurn(answer);
        }

        /**
         * Ends the turn of a task that has finished: removes the mailbox when nothing is queued, then answers, then
         * hands what is queued to a pool thread. Removal comes first so that the answer's receiver, sending again at
         * once, finds the key idle; the hand-off comes last so that a task queued meanwhile never starts before the
         * answer of the one before it.
         */
        private void endTurn(@Nullable Runnable answer) {
            boolean removed = removeIfIdle();
            answer(answer);
            if (!removed) {
                resume();
            }
        }

        private void answer(@Nullable Runnable answer) {
            if (answer == null) {
                return;
            }
            try {
                answer.run();
            } catch (RuntimeException | Error e) {
                log.error("The answer of a task for key '{}' threw", key, e);
            }
        }

        private @Nullable Runnable answerOf(CompletableFuture<? extends @Nullable Runnable> done) {
            try {
                return done.join();
            } catch (CompletionException | CancellationException e) {
                log.error("Task for key '{}' failed", key, e);
                return null;
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
        private @Nullable Supplier<? extends CompletionStage<? extends @Nullable Runnable>> next() {
            List<Supplier<? extends CompletionStage<? extends @Nullable Runnable>>> next = new ArrayList<>(1);
            mailboxes.computeIfPresent(key, (k, mailbox) -> {
                Supplier<? extends CompletionStage<? extends @Nullable Runnable>> task = mailbox.tasks.poll();
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
