package io.gyre.eventstore;

import org.jspecify.annotations.Nullable;

/**
 * The store was closed: it takes no more reads or appends. Still an {@link EventStoreException}, and transient for a
 * caller that can go elsewhere (another node, whose store is open), but the node that got it does not retry on it:
 * waiting cannot bring this store back. The message says whether an append it ended may have been written.
 */
public class EventStoreClosedException extends EventStoreException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what was refused or cut short, and whether it may have been written
     * @param cause   what closing interrupted, or null
     */
    public EventStoreClosedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
