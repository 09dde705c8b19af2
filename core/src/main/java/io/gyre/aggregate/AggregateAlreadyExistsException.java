package io.gyre.aggregate;

import io.gyre.GyreNonTransientException;

/** A creation command named an id that already has events. Nothing is stored. */
public class AggregateAlreadyExistsException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final String aggregateType;
    private final String aggregateId;

    /**
     * @param aggregateType the aggregate type of the creation command
     * @param aggregateId   the id that already has events
     */
    public AggregateAlreadyExistsException(String aggregateType, String aggregateId) {
        super("Aggregate " + aggregateType + " '" + aggregateId + "' already exists; a creation command cannot "
                + "run on it again");
        this.aggregateType = aggregateType;
        this.aggregateId = aggregateId;
    }

    /** @return the aggregate type of the creation command */
    public String aggregateType() {
        return aggregateType;
    }

    /** @return the id that already has events */
    public String aggregateId() {
        return aggregateId;
    }
}
