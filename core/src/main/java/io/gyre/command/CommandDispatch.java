package io.gyre.command;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One delivery of a command through a {@link CommandBus}: it completes with the handler's result or failure, and
 * it records whether the command may have run, which is what a sender needs to know when the command's deadline
 * passes (was it {@linkplain CommandNotExecutedException not executed}, or is its
 * {@linkplain CommandOutcomeUnknownException outcome unknown}?).
 *
 * <p>A delivery starts out <em>waiting</em> (for capacity, for its aggregate's turn, in an outbound queue). Exactly
 * one of two things then happens, atomically: the bus {@linkplain #start() starts} it (runs the handler, or hands
 * the command to another member), or the sender {@linkplain #withdraw(RuntimeException) withdraws} it, and the bus
 * drops it when it comes to it. A started delivery may later turn out not to have run (the receiving member was
 * not the owner, or dropped it as late): the bus then {@linkplain #failNotRun(Throwable) fails it as not run}.
 *
 * <p>Buses complete deliveries on their own threads; senders must not block in dependent stages.
 */
public final class CommandDispatch extends CompletableFuture<Object> {

    private static final int WAITING = 0;
    private static final int STARTED = 1;
    private static final int WITHDRAWN = 2;
    private static final int NOT_RUN = 3;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CommandDispatch.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CommandMessage command;
    @SuppressWarnings("unused") // through STATE
    private volatile int state;

    /**
     * @param command the command delivered
     */
    public CommandDispatch(CommandMessage command) {
        this.command = Objects.requireNonNull(command, "command");
    }

    /**
     * A delivery the bus refused at once, without running anything (no handler, bus closed, bad input).
     *
     * @param command the command
     * @param failure why it was refused
     * @return the failed delivery; {@link #mayHaveRun()} is false
     */
    public static CommandDispatch refused(CommandMessage command, Throwable failure) {
        CommandDispatch dispatch = new CommandDispatch(command);
        dispatch.state = NOT_RUN;
        dispatch.completeExceptionally(failure);
        return dispatch;
    }

    /** @return the command delivered */
    public CommandMessage command() {
        return command;
    }

    /**
     * Called by the bus right before it runs the handler or hands the command to another member.
     *
     * @return true when the bus may go on; false when the sender withdrew the delivery, which the bus then drops
     */
    public boolean start() {
        return STATE.compareAndSet(this, WAITING, STARTED);
    }

    /**
     * Called by the sender, typically when the deadline passes: takes back a delivery that has not started.
     *
     * @param notRun the failure to complete the delivery with, usually a {@link CommandNotExecutedException}
     * @return true when the delivery was withdrawn (it will never run); false when it had already started or ended
     */
    public boolean withdraw(RuntimeException notRun) {
        if (STATE.compareAndSet(this, WAITING, WITHDRAWN)) {
            completeExceptionally(notRun);
            return true;
        }
        return false;
    }

    /**
     * Called by the bus when it knows the command did not run and stored nothing: it was refused before the handler
     * (not the owner, deadline passed, bus closing), here or on the member it was handed to.
     *
     * @param failure why it did not run
     * @return true when this completed the delivery
     */
    public boolean failNotRun(Throwable failure) {
        if (isDone()) {
            return false;
        }
        if (!STATE.compareAndSet(this, STARTED, NOT_RUN)) {
            STATE.compareAndSet(this, WAITING, NOT_RUN);
        }
        return completeExceptionally(failure);
    }

    /** @return true when the command started (here or on another member) and is not known to have stayed unrun */
    public boolean mayHaveRun() {
        return state == STARTED;
    }

    /** @return true when the delivery is still waiting: neither started nor withdrawn */
    public boolean isWaiting() {
        return state == WAITING;
    }

    @Override
    public String toString() {
        String[] names = {"waiting", "started", "withdrawn", "not run"};
        return "CommandDispatch[" + command + ", " + names[state] + (isDone() ? ", done" : "") + "]";
    }
}
