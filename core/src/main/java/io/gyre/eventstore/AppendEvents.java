package io.gyre.eventstore;

/** The write side of an event store. */
@FunctionalInterface
public interface AppendEvents {

    /**
     * Stores one command's decision on one aggregate, atomically: its events, numbered from the stream's last
     * sequence number plus one, and its outcome under its command id. A decision without events is stored only
     * if the stream's last sequence number is still the expected one.
     *
     * @param request the decision and the optimistic check
     * @return the sequence numbers the events got
     * @throws ConcurrencyConflictException when the stream's last sequence number is not the expected one, or
     *                                      another writer appended the same sequence numbers first
     * @throws DuplicateCommandException    when a decision of the same command id is already stored for the
     *                                      aggregate (checked before the sequence number): the first decision on
     *                                      a command id is final
     * @throws EventStoreException          when the store cannot be reached or fails; nothing was stored
     */
    AppendResult append(AppendRequest request);
}
