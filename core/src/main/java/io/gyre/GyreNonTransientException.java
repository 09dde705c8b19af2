package io.gyre;

import org.jspecify.annotations.Nullable;

/**
 * A failure that trying again cannot fix: a command nobody handles, a malformed command, a type outside the
 * serialization allow-list, an aggregate class that breaks the rules. Never retried.
 */
public non-sealed class GyreNonTransientException extends GyreException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the values involved
     */
    public GyreNonTransientException(String message) {
        this(message, null);
    }

    /**
     * @param message what went wrong, naming the values involved
     * @param cause   the underlying failure, if any
     */
    public GyreNonTransientException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /**
     * Tells whether a failure is, or is caused by, a non-transient Gyre exception (checked before any
     * transient one in the cause chain).
     *
     * @param failure any throwable, possibly wrapped
     * @return true when retrying cannot help
     */
    public static boolean isCauseOf(@Nullable Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof GyreNonTransientException) {
                return true;
            }
            if (t instanceof GyreTransientException) {
                return false;
            }
        }
        return false;
    }
}
