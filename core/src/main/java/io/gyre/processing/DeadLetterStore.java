package io.gyre.processing;

import java.util.List;

/**
 * Where processors with {@link ErrorPolicy#deadLetter()} put the events they gave up on, so that the other events
 * keep flowing; {@link Processors#retryDeadLetters(String)} handles them again later.
 *
 * <p>Letters are kept per processor and segment in the order they were added, which is the segment's log order:
 * a segment that has a dead letter for an aggregate puts that aggregate's later events behind it, and a retry
 * handles them in that order. Implementations are thread-safe. {@link InMemoryDeadLetterStore} keeps letters in the
 * heap; {@code JdbcProcessingStore} (gyre-eventstore-jdbc) in a table.
 *
 * <p>Fencing: the methods here are not fenced by the token store. When this store is also the
 * {@link ProcessingTransactions} that keep the processor's tokens ({@code JdbcProcessingStore}), a tracking processor
 * writes its letters through those transactions instead ({@link ProcessingTransaction#addDeadLetter}), together with
 * its fenced token, so that a node the token store has superseded adds and removes none. A store apart from the
 * tokens cannot be fenced: a superseded node may still add a letter there for an event the segment's new owner
 * handles too, or remove one.
 */
public interface DeadLetterStore {

    /**
     * Adds a letter; adding one with the same processor and event id again replaces its cause, attempts and last
     * failure but keeps its place, so a node that dies between adding a letter and storing its token adds nothing
     * twice.
     *
     * @param letter the letter
     * @throws io.gyre.GyreTransientException when the store cannot be reached
     */
    void add(DeadLetter letter);

    /**
     * @param processor the processor's name
     * @param segment   the segment
     * @return its letters in the order they were added
     */
    List<DeadLetter> list(String processor, int segment);

    /**
     * Removes a letter after it was handled.
     *
     * @param processor the processor's name
     * @param eventId   the event's id
     */
    void remove(String processor, String eventId);

    /**
     * Removes every letter of a processor, when it is reset to replay the log.
     *
     * @param processor the processor's name
     */
    void clear(String processor);

    /**
     * @param processor the processor's name
     * @return how many letters it has, by segment; segments with none are left out
     */
    java.util.Map<Integer, Integer> counts(String processor);
}
