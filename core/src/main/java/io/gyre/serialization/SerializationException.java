package io.gyre.serialization;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/** Data that cannot be turned into the registered type it claims to be, or a value that cannot be written. */
public class SerializationException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the type and what is wrong
     * @param cause   the parser's or writer's failure
     */
    public SerializationException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
