package io.gyre.serialization;

import org.jspecify.annotations.Nullable;

/**
 * A stored event could not be brought to the current shape of its class: no upcaster from its stored revision, an
 * upcaster that failed or returned nothing, upcast JSON that does not fit the class, or an event stored at a
 * revision newer than the class (written by a newer version of the application). Non-transient: reading it again
 * gives the same result; the fix is in the code (an upcaster, or deploying the newer version).
 */
public class UpcastingException extends SerializationException {

    private static final long serialVersionUID = 1L;

    private final String typeName;
    private final int revision;

    /**
     * @param typeName the event's registered type name
     * @param revision the revision it was stored at
     * @param message  what went wrong, naming the type and revision
     * @param cause    the upcaster's or the reader's failure, or null
     */
    public UpcastingException(String typeName, int revision, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.typeName = typeName;
        this.revision = revision;
    }

    /** @return the event's registered type name */
    public String typeName() {
        return typeName;
    }

    /** @return the revision the event was stored at */
    public int revision() {
        return revision;
    }
}
