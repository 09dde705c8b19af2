package io.gyre.processing.internal;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.processing.HandlerTransactionAbortedException;
import io.gyre.serialization.SerializationException;
import org.jspecify.annotations.Nullable;

/**
 * Calls a tracking segment's handlers with one event, and says what a failure of theirs means for the error policy.
 * A failure is returned, not thrown, because the segment's loop decides what follows it (a retry, a dead letter, a
 * stop) and must never lose its turn to one. Internal: not part of Gyre's API.
 */
final class HandlerCalls {

    private HandlerCalls() {
    }

    /**
     * @param resource the open transaction's resource when the delivery is transactional, else null
     * @return the handler's failure, or null when every handler returned
     */
    static @Nullable Throwable invoke(EventDispatcher dispatcher, TrackedEvent tracked, int segment,
                                      @Nullable Object resource) {
        try {
            dispatcher.dispatch(tracked.event(), tracked.token(), segment, resource);
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    /** A failure that retrying cannot fix skips the retries: stored data that no longer fits its class. */
    static boolean retryable(Throwable error) {
        // An aborted transaction is the handler's failure, which a retry may or may not cure: the policy decides.
        return error instanceof HandlerTransactionAbortedException
                || !(error instanceof SerializationException) && !GyreNonTransientException.isCauseOf(error);
    }

    /** @return the failure's class and message, for the status and dead letters */
    static String describe(Throwable error) {
        String message = error.getMessage();
        return error.getClass().getName() + (message == null ? "" : ": " + message);
    }
}
