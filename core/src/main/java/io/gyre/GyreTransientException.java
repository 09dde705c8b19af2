package io.gyre;

import org.jspecify.annotations.Nullable;

/**
 * A failure that may go away if the same operation is tried again: a concurrency conflict on append, an
 * overloaded command bus, a cluster member that left, a store that is briefly unreachable. The command
 * gateway retries commands that fail with a transient exception, keeping the command id, within the
 * caller's deadline.
 */
public non-sealed class GyreTransientException extends GyreException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the values involved
     */
    public GyreTransientException(String message) {
        this(message, null);
    }

    /**
     * @param message what went wrong, naming the values involved
     * @param cause   the underlying failure, if any
     */
    public GyreTransientException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /**
     * Tells whether a failure is transient: the throwable itself or any of its causes is a
     * {@code GyreTransientException}, and no non-transient Gyre exception comes before it in the cause chain.
     *
     * @param failure any throwable, possibly wrapped (for example in a {@code CompletionException})
     * @return true when retrying the operation may help
     */
    public static boolean isCauseOf(@Nullable Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof GyreTransientException) {
                return true;
            }
            if (t instanceof GyreNonTransientException) {
                return false;
            }
        }
        return false;
    }
}
