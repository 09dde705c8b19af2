package io.gyre;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception Gyre throws on its own account. Each concrete exception is either
 * {@link GyreTransientException transient} (the same operation may succeed if tried again, for example after
 * a concurrency conflict or a member leaving the cluster) or {@link GyreNonTransientException non-transient}
 * (trying again cannot help, for example a command nobody handles). Exceptions thrown by user code (command
 * handlers) are passed through unchanged and are never retried.
 */
public abstract sealed class GyreException extends RuntimeException
        permits GyreTransientException, GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the values involved
     * @param cause   the underlying failure, if any
     */
    protected GyreException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
