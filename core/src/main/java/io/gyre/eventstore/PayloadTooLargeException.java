package io.gyre.eventstore;

/** An event's payload and metadata together exceed the store's configured limit. Nothing was appended. */
public class PayloadTooLargeException extends EventRejectedException {

    private static final long serialVersionUID = 1L;

    private final long size;
    private final long limit;

    /**
     * @param aggregateId the aggregate
     * @param eventType   the event's type name
     * @param size        the event's payload and metadata in UTF-8 bytes
     * @param limit       the configured limit in bytes
     */
    public PayloadTooLargeException(String aggregateId, String eventType, long size, long limit) {
        super("Event " + eventType + " of aggregate '" + aggregateId + "' is " + size + " bytes (payload and "
                + "metadata, UTF-8), over the store's limit of " + limit + " bytes (maxEventBytes)", null);
        this.size = size;
        this.limit = limit;
    }

    /** @return the event's size in bytes */
    public long size() {
        return size;
    }

    /** @return the configured limit in bytes */
    public long limit() {
        return limit;
    }
}
