package io.gyre.eventstore;

import io.gyre.GyreNonTransientException;
import java.util.Objects;

/**
 * An append carried the id of a command whose decision is already stored for the aggregate: the command was
 * decided twice (an earlier delivery was still alive somewhere when a retry ran, as in a network partition or on
 * a paused node). Nothing was stored. The repository answers with the stored outcome instead, result or refusal,
 * so the first decision on a command id is final whatever the timing of its deliveries.
 */
public class DuplicateCommandException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final transient CommandRecord stored;

    /**
     * @param stored the command as stored by its earlier attempt
     */
    public DuplicateCommandException(CommandRecord stored) {
        super("Command " + stored.commandId() + " is already decided for " + stored.stream() + " (" + stored
                + "); nothing was stored");
        this.stored = Objects.requireNonNull(stored, "stored");
    }

    /** @return the command as stored by its earlier attempt */
    public CommandRecord stored() {
        return stored;
    }
}
