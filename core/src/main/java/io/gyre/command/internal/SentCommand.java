package io.gyre.command.internal;

import io.gyre.GyreTransientException;
import io.gyre.command.CommandBus;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandDispatch;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.Deadline;
import io.gyre.command.RetryPolicy;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventStoreClosedException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One command from the moment a caller sends it until the caller has its answer: dispatches it, re-dispatches it
 * after a transient failure (same command id, attempt counted up) with the retry policy's back-off, and answers
 * the caller exactly once, with the outcome or, when the deadline passes first, with what is known of it.
 *
 * <p>At the deadline the current delivery is {@linkplain CommandDispatch#withdraw withdrawn} if it has not started;
 * the caller is then told {@link CommandNotExecutedException} when no delivery may have run, and
 * {@link CommandOutcomeUnknownException} (with the command id) when one may have. A delivery that started is never
 * reported as not executed: it may be running on another member right now. Nor is a command under an id the caller
 * chose ({@link CommandMessage#callerChosenId()}): an earlier send under that id may be stored.
 *
 * <p>Thread-safety: outcomes, the deadline and retries fire on different threads; {@link #finished} decides which
 * of them answers, and the fields they share are volatile and written in an order that makes every reader safe
 * (see {@link #attempt(int)}). Internal: not part of Gyre's API.
 */
final class SentCommand {

    private static final Logger log = LoggerFactory.getLogger(SentCommand.class);

    private final CommandMessage message;
    private final Deadline deadline;
    private final CommandBus bus;
    private final RetryPolicy policy;
    private final DeadlineTimer timer;
    private final CompletableFuture<Object> caller;
    private final Executor completion;
    private final Consumer<SentCommand> onFinish;
    private final AtomicBoolean finished = new AtomicBoolean();
    /** True when a delivery before the current one may have run. Written before {@link #current}. */
    private volatile boolean earlierMayHaveRun;
    private volatile @Nullable CommandDispatch current;
    private volatile DeadlineTimer.@Nullable Timeout deadlineTimeout;
    private volatile DeadlineTimer.@Nullable Timeout retryTimeout;
    /** The failure of the last delivery, retried; the cause of a deadline's answer. */
    private volatile @Nullable Throwable lastFailure;

    SentCommand(CommandMessage message, CommandBus bus, RetryPolicy policy, DeadlineTimer timer,
                CompletableFuture<Object> caller, Executor completion, Consumer<SentCommand> onFinish) {
        this.message = message;
        this.deadline = Objects.requireNonNull(message.deadline(), "deadline");
        this.bus = bus;
        this.policy = policy;
        this.timer = timer;
        this.caller = caller;
        this.completion = completion;
        this.onFinish = onFinish;
    }

    void start() {
        deadlineTimeout = timer.schedule(deadline.nanoTime(), this::onDeadline);
        attempt(1);
    }

    private void attempt(int number) {
        CommandDispatch dispatch;
        // Dispatching and publishing the delivery happen under the lock the deadline takes, so the deadline never
        // sees the previous delivery while the new one may already be running.
        synchronized (this) {
            if (finished.get()) {
                return;
            }
            CommandDispatch previous = current;
            if (previous != null && previous.mayHaveRun()) {
                earlierMayHaveRun = true;
            }
            try {
                dispatch = bus.dispatch(message.withAttempt(number));
            } catch (RuntimeException e) {
                // A bus must not throw; one that does has not taken the command.
                dispatch = CommandDispatch.refused(message, e);
            }
            current = dispatch;
        }
        CommandDispatch attempted = dispatch;
        dispatch.whenComplete((value, failure) -> onOutcome(attempted, number, value, failure));
    }

    private void onOutcome(CommandDispatch dispatch, int number, @Nullable Object value, @Nullable Throwable failure) {
        if (finished.get() || dispatch != current) {
            return;
        }
        if (failure == null) {
            finish(value, null);
            return;
        }
        Throwable cause = unwrap(failure);
        if (cause instanceof CommandBusClosedException) {
            // This node's own bus has stopped: retrying here cannot help; the caller may send through another node.
            boolean mayHaveRun = earlierMayHaveRun || dispatch.mayHaveRun();
            finish(null, mayHaveRun ? timedOut(true, "the node's command bus closed") : cause);
            return;
        }
        if (cause instanceof EventStoreClosedException closed) {
            // This node's event store is closed, or the owner's on another member (a bus carries it across, with
            // mayHaveBeenStored): retrying cannot help (the next try would fail the same way, until the deadline), so
            // the caller is answered now and may send again when it chooses.
            lastFailure = closed;
            // A caller-chosen id may be a re-send of a command stored by an earlier send (the way to learn an unknown
            // outcome): the closed store refused this delivery's look-up of it, which says nothing of that one.
            boolean mayHaveRun = earlierMayHaveRun || closed.mayHaveBeenStored() || message.callerChosenId();
            finish(null, mayHaveRun ? timedOut(true, "the event store closed") : new CommandNotExecutedException(
                    message + " was not executed: the event store is closed, and nothing of it is stored; it is safe "
                    + "to send again (through another node)", message.commandId(), closed));
            return;
        }
        if (cause instanceof CommandNotExecutedException && number > 1 && deadline.hasPassed()) {
            // The bus dropped a retry unrun for its deadline before the deadline's timer fired (a bus checks the
            // deadline too, on its own thread): answer now as the timer would, naming the failure that was being
            // retried as the cause. Kept as the last failure, this drop would hide why the command never ran.
            end("its deadline passed");
            return;
        }
        if (!GyreTransientException.isCauseOf(cause) || number >= policy.maxAttempts()) {
            if (earlierMayHaveRun && !dispatch.mayHaveRun()) {
                // This delivery did not run, but an earlier one may have (its member left before answering): this
                // failure says nothing of that one, and reported alone it would read as "failed", inviting a re-send
                // under a new id that runs the command twice.
                lastFailure = cause;
                finish(null, timedOut(true, "a retry ended without running (" + cause.getMessage() + ")"));
                return;
            }
            if (GyreTransientException.isCauseOf(cause) && dispatch.mayHaveRun()
                    && !(cause instanceof ConcurrencyConflictException)
                    && !(cause instanceof CommandOutcomeUnknownException)) {
                // Out of attempts while this delivery may have run (its member left while running it, a store failure
                // after the append was sent): reported alone, the transient failure would read as "failed, try
                // again", inviting a re-send under a new id that runs the command twice. A conflict is exact (the
                // store refused the append, nothing of it is stored), and an unknown outcome already says so.
                lastFailure = cause;
                finish(null, timedOut(true, "its last attempt (" + number + " of " + policy.maxAttempts()
                        + ") failed"));
                return;
            }
            finish(null, cause);
            return;
        }
        lastFailure = cause;
        if (deadline.hasPassed()) {
            return; // the deadline's timer answers, with what is known of every delivery
        }
        long delay = policy.backoffAfter(number, ThreadLocalRandom.current()).toNanos();
        if (log.isDebugEnabled()) {
            log.debug("Retrying {} in {} µs after attempt {} failed: {}", message, delay / 1000, number, cause.toString());
        }
        // A retry due after the deadline is never run: the deadline answers first.
        retryTimeout = timer.schedule(System.nanoTime() + delay, () -> attempt(number + 1));
    }

    private void onDeadline() {
        end("its deadline passed");
    }

    /**
     * Ends the command as the deadline would, for a reason such as the node closing.
     *
     * @param reason why, for the message
     */
    void abandon(String reason) {
        end(reason);
    }

    private synchronized void end(String reason) {
        if (finished.get()) {
            return;
        }
        CommandDispatch dispatch = current;
        boolean mayHaveRun = earlierMayHaveRun;
        if (dispatch != null) {
            boolean withdrawn = dispatch.withdraw(new CommandNotExecutedException(message + " was withdrawn: "
                    + reason, message.commandId()));
            mayHaveRun |= !withdrawn && dispatch.mayHaveRun();
        }
        finish(null, timedOut(mayHaveRun, reason));
    }

    private RuntimeException timedOut(boolean mayHaveRun, String reason) {
        Throwable last = lastFailure;
        String retried = last == null ? "" : "; the last attempt failed with: " + last.getMessage();
        RuntimeException timeout;
        if (mayHaveRun) {
            timeout = new CommandOutcomeUnknownException(message + " has no known outcome: " + reason + " while it "
                    + "may have been running or committing. Send it again under command id " + message.commandId()
                    + " (CommandMessage.withCommandId) to get its stored outcome, or run it once if it was not stored"
                    + retried, message.commandId(), last);
        } else {
            timeout = new CommandNotExecutedException(message + " was not executed: " + reason + " before it ran, "
                    + "and nothing of it is stored; it is safe to send again" + retried, message.commandId(), last);
        }
        return timeout;
    }

    private void finish(@Nullable Object value, @Nullable Throwable outcome) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        Throwable failure = outcome instanceof CommandNotExecutedException notRun && message.callerChosenId()
                ? notExecutedHereOnly(notRun) : outcome;
        DeadlineTimer.Timeout timeout = deadlineTimeout;
        if (timeout != null) {
            timeout.cancel();
        }
        DeadlineTimer.Timeout retry = retryTimeout;
        if (retry != null) {
            retry.cancel();
        }
        onFinish.accept(this);
        try {
            completion.execute(() -> {
                if (failure == null) {
                    caller.complete(value);
                } else {
                    caller.completeExceptionally(failure);
                }
            });
        } catch (RuntimeException e) {
            // The callback executor stopped with the node: complete here rather than never.
            if (failure == null) {
                caller.complete(value);
            } else {
                caller.completeExceptionally(failure);
            }
        }
    }

    /**
     * "Not executed" speaks of this send's deliveries only. Under an id the caller chose, an earlier send (the one
     * whose outcome was unknown, or a client's first request under its idempotency key) may be stored, and "nothing
     * of it is stored, send it again under any id" would invite a second run under a new id: the caller is told
     * the outcome is unknown instead, which sends it back to the same id.
     */
    private CommandOutcomeUnknownException notExecutedHereOnly(CommandNotExecutedException notRun) {
        return new CommandOutcomeUnknownException(message + " has no known outcome: this send of it did not run ("
                + notRun.getMessage() + "), but its command id was chosen by the caller, and an earlier send under "
                + "it may be stored. Send it again under command id " + message.commandId() + " to get its stored "
                + "outcome, or run it once if it was not stored", message.commandId(), notRun);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
