package io.gyre.eventstore;

/** The write side of an event store. */
@FunctionalInterface
public interface AppendEvents {

    /**
     * Appends all events of one command to one aggregate's stream, atomically, numbering them from the
     * stream's last sequence number plus one.
     *
     * @param request the events and the optimistic check
     * @return the sequence numbers the events got
     * @throws ConcurrencyConflictException when the stream's last sequence number is not the expected one, or
     *                                      another writer appended the same sequence numbers first
     * @throws DuplicateCommandException    when events of the same command id are already stored for the
     *                                      aggregate (checked before the sequence number)
     * @throws EventStoreException          when the store cannot be reached or fails; nothing was appended
     */
    AppendResult append(AppendRequest request);
}
