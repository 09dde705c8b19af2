package io.gyre.aggregate;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * An aggregate class breaks the rules of the model: thrown when it is registered, naming the class and the
 * member at fault, so that a malformed aggregate never reaches a running node.
 */
public class AggregateDefinitionException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the class, the member and the rule
     */
    public AggregateDefinitionException(String message) {
        super(message);
    }

    /**
     * @param message names the class, the member and the rule
     * @param cause   the reflective failure behind it
     */
    public AggregateDefinitionException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
