package io.gyre.command.internal;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a thread that is about to wait for a command run the command's start itself, instead of handing it to a
 * worker and sleeping until the worker has decided it. A caller of {@code sendAndWait} has nothing else to do, and
 * on a virtual machine a thread hand-off is among the dearest steps of a command: waking a worker and putting the
 * caller to sleep cost two context switches, which measured as much CPU as the rest of the command's Java code.
 *
 * <p>How: {@link #collectWhile} runs its action (the dispatch) with this thread collecting, then runs on this thread
 * what the command bus handed to {@link #or its executor} meanwhile, after every lock taken by the dispatch is
 * released. A task collected is run exactly once, even when the action throws. Only the dispatching thread collects:
 * what the bus hands over from any other thread (a store's writer resuming an aggregate's queue, a retry, a remote
 * command) goes to the workers as before, and so does what the collected tasks hand over while they run. The order of
 * an aggregate's commands is the bus's business and is unchanged: what is collected is the start of the aggregate's
 * queue, which the bus created for this command, so nothing of that aggregate can run elsewhere meanwhile.
 *
 * <p>Internal: not part of Gyre's API.
 */
public final class CallerRuns {

    private static final Logger log = LoggerFactory.getLogger(CallerRuns.class);
    private static final ThreadLocal<@Nullable ArrayDeque<Runnable>> COLLECTING = new ThreadLocal<>();
    /** Set while this thread runs what it collected: the start of the command its caller waits for. */
    private static final ThreadLocal<Boolean> RUNNING_OWN = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private CallerRuns() {
    }

    /**
     * @param workers where tasks go when the submitting thread is not collecting
     * @return an executor that keeps a task for the submitting thread while it is inside {@link #collectWhile}, and
     *         hands it to {@code workers} otherwise
     */
    public static Executor or(Executor workers) {
        Objects.requireNonNull(workers, "workers");
        return task -> {
            ArrayDeque<Runnable> collecting = COLLECTING.get();
            if (collecting != null) {
                collecting.add(Objects.requireNonNull(task, "task"));
            } else {
                workers.execute(task);
            }
        };
    }

    /**
     * @return true while this thread runs the tasks it collected in {@link #collectWhile}: the start of a command
     *         whose caller waits for it on this very thread, which has nothing else to do. Work it would hand to
     *         another thread and then wait for (a store's write) it may as well do itself.
     */
    public static boolean runningForWaitingCaller() {
        return RUNNING_OWN.get();
    }

    /**
     * Runs the action with this thread collecting, then runs the tasks collected meanwhile, on this thread, with
     * collection off.
     *
     * @param action what hands tasks over (a dispatch); it must not wait for them
     * @param <T>    the action's result
     * @return the action's result
     */
    public static <T> T collectWhile(Supplier<T> action) {
        ArrayDeque<Runnable> outer = COLLECTING.get();
        ArrayDeque<Runnable> collected = new ArrayDeque<>(1);
        COLLECTING.set(collected);
        try {
            return action.get();
        } finally {
            // Collection is off while the tasks run: what they hand over goes to the workers, so this thread runs
            // its own command's start and returns to wait, instead of serving others.
            COLLECTING.set(null);
            boolean outerOwn = RUNNING_OWN.get();
            if (!collected.isEmpty()) {
                RUNNING_OWN.set(Boolean.TRUE);
            }
            try {
                for (Runnable task; (task = collected.poll()) != null; ) {
                    try {
                        task.run();
                    } catch (RuntimeException | Error e) {
                        log.error("A command task run by its waiting caller threw", e);
                    }
                }
            } finally {
                RUNNING_OWN.set(outerOwn);
                COLLECTING.set(outer);
            }
        }
    }
}
