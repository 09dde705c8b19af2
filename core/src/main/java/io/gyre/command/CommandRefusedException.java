package io.gyre.command;

import io.gyre.GyreNonTransientException;
import java.util.Objects;

/**
 * A command handler refused the command by throwing, and the caller sees it as class name and message rather than
 * the exception itself: the decision was made on another member of the cluster, or by an earlier delivery of the
 * same command id and stored (the first decision on a command id is final, so a re-sent command is answered with
 * its stored refusal). Non-transient.
 */
public class CommandRefusedException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final String exceptionType;
    private final String refusalMessage;

    /**
     * @param exceptionType the fully qualified class name of the handler's exception
     * @param message       its message
     * @param where         where the decision was made, for the message ("on member node-2", "stored earlier")
     */
    public CommandRefusedException(String exceptionType, String message, String where) {
        super(message + " (" + Objects.requireNonNull(exceptionType, "exceptionType") + ", " + where + ")");
        this.exceptionType = exceptionType;
        this.refusalMessage = Objects.requireNonNull(message, "message");
    }

    /** @return the message of the exception the handler threw, as it was */
    public String refusalMessage() {
        return refusalMessage;
    }

    /** @return the fully qualified class name of the exception the handler threw */
    public String exceptionType() {
        return exceptionType;
    }

    /**
     * @param type an exception class
     * @return true when the handler threw an exception of exactly that class
     */
    public boolean is(Class<? extends Throwable> type) {
        return type.getName().equals(exceptionType);
    }
}
