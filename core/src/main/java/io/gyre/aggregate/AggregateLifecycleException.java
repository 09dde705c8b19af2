package io.gyre.aggregate;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * An aggregate misbehaved while handling a command: {@link AggregateLifecycle#apply(Object)} called outside a
 * command handler, a creation handler that applied no event or left the {@link AggregateId} unset or different
 * from the command's target. Nothing is stored.
 */
public class AggregateLifecycleException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the aggregate, the handler and the rule
     */
    public AggregateLifecycleException(String message) {
        super(message);
    }

    /**
     * @param message names the aggregate, the handler and the rule
     * @param cause   the failure behind it
     */
    public AggregateLifecycleException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
