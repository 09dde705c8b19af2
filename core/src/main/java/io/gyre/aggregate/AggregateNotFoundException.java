package io.gyre.aggregate;

import io.gyre.GyreNonTransientException;

/** A command for an existing aggregate named an id that has no events. */
public class AggregateNotFoundException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final String aggregateType;
    private final String aggregateId;

    /**
     * @param aggregateType the aggregate type the command is for
     * @param aggregateId   the id that has no events
     */
    public AggregateNotFoundException(String aggregateType, String aggregateId) {
        super("Aggregate " + aggregateType + " '" + aggregateId + "' does not exist");
        this.aggregateType = aggregateType;
        this.aggregateId = aggregateId;
    }

    /** @return the aggregate type the command is for */
    public String aggregateType() {
        return aggregateType;
    }

    /** @return the id that has no events */
    public String aggregateId() {
        return aggregateId;
    }
}
