package io.gyre.eventstore;

import org.jspecify.annotations.Nullable;

/**
 * The store was closed: it takes no more reads or appends. Still an {@link EventStoreException}, and transient for a
 * caller that can go elsewhere (another node, whose store is open), but the node that got it does not retry on it:
 * waiting cannot bring this store back. A command it ends is answered at once, as not executed when nothing of it
 * may have been stored, else as of unknown outcome ({@link #mayHaveBeenStored()}); the message says which.
 *
 * <p>The same holds for a caller on another member of a cluster than the aggregate's owner: the owner's closed store
 * reaches it with {@link #mayHaveBeenStored()} kept, and it is answered at once as well. It is not sent to another
 * member instead, not even one that may own the aggregate before the deadline: the owner of the closed store may keep
 * it until then, and sending the command again is the caller's choice (safe, as the answer says).
 */
public class EventStoreClosedException extends EventStoreException {

    private static final long serialVersionUID = 1L;

    private final boolean mayHaveBeenStored;

    /**
     * A refusal: the store was closed before the read or append began, so nothing of it was stored.
     *
     * @param message what was refused
     * @param cause   what closing interrupted, or null
     */
    public EventStoreClosedException(String message, @Nullable Throwable cause) {
        this(message, cause, false);
    }

    /**
     * @param message           what was refused or cut short, and whether it may have been written
     * @param cause             what closing interrupted, or null
     * @param mayHaveBeenStored true when closing cut an append short while it was being written, so that whether it
     *                          was stored is unknown; false when nothing of it was stored
     */
    public EventStoreClosedException(String message, @Nullable Throwable cause, boolean mayHaveBeenStored) {
        super(message, cause);
        this.mayHaveBeenStored = mayHaveBeenStored;
    }

    /**
     * @return true when the append this failure ended may have been stored (closing cut it short while it was being
     *         written, or an earlier try of the same command may have been); false when nothing of it was stored
     */
    public boolean mayHaveBeenStored() {
        return mayHaveBeenStored;
    }
}
