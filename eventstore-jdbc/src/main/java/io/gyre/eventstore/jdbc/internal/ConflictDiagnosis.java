package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.StreamId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Optional;

/**
 * Tells why a decision was not stored, by looking at what the unique keys guard rather than at the text of the
 * database's error: the command is already decided (reported first, since the first decision on a command id is
 * final: the caller is answered with the stored {@link CommandRecord}), or the stream is not where the decision
 * expected it ({@link ConcurrencyConflictException}), or neither, which leaves an event id used before
 * ({@link EventRejectedException}). A key that fires has committed (PostgreSQL and H2 make an insert wait for an
 * uncommitted holder of its key to finish), so what it guards is visible to the look-up. Internal: not part of
 * Gyre's API.
 */
public final class ConflictDiagnosis {

    private final StreamReader reader;
    private final KnownStreamHeads heads;

    /**
     * @param reader looks up commands and last sequence numbers
     * @param heads  learns the last sequence numbers looked up
     */
    public ConflictDiagnosis(StreamReader reader, KnownStreamHeads heads) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.heads = Objects.requireNonNull(heads, "heads");
    }

    /**
     * Keeps streams contiguous: the unique key refuses a second writer of a sequence number, and this refuses a
     * writer ahead of the stream, whose expected last event does not exist. Events are never deleted, so an event
     * once seen stays, and checking before the insert is as good as checking inside it; the store asks only for
     * an event it has not appended or read ({@link KnownStreamHeads}).
     *
     * @param connection a connection outside a transaction
     * @param request    a decision with events, expecting an event that may not exist
     * @throws DuplicateCommandException    when the command is already decided
     * @throws ConcurrencyConflictException when the expected event does not exist
     * @throws SQLException                 when the database fails
     */
    public void checkExpectedEventExists(Connection connection, AppendRequest request) throws SQLException {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        long actual = reader.lastSequence(connection, stream);
        if (actual < expected) {
            Optional<CommandRecord> earlier = reader.findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                throw new DuplicateCommandException(earlier.get());
            }
            throw new ConcurrencyConflictException(stream, expected, actual);
        }
        // Further along than expected: the insert fails on a unique key, and the diagnosis tells a conflict from a
        // re-sent command.
        heads.advance(stream, actual);
    }

    /**
     * @param connection a connection outside a transaction (the refused one rolled back)
     * @param request    the decision a unique key refused
     * @param refusal    the database's error
     * @return what to throw: the stored decision of the command, a conflict naming the actual last sequence
     *         number, or the rejection of an event id used before
     */
    public RuntimeException uniqueKeyRefused(Connection connection, AppendRequest request, SQLException refusal) {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        long actual;
        try {
            Optional<CommandRecord> earlier = reader.findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return new DuplicateCommandException(earlier.get());
            }
            actual = reader.lastSequence(connection, stream);
        } catch (SQLException lookup) {
            refusal.addSuppressed(lookup);
            return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, refusal);
        }
        if (actual == expected) {
            if (request.decisionOnly()) {
                // Only the command key can refuse a decision, and its holder is gone: it rolled back after all.
                return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN,
                        refusal);
            }
            // Neither the command nor the stream moved, so the duplicate key was an event id.
            return new EventRejectedException(Appender.describe(request) + " failed: an event id is already stored; "
                    + "event ids must be unique", refusal);
        }
        return new ConcurrencyConflictException(stream, expected, actual, refusal);
    }

    /**
     * Why a decision without events stored nothing although no key fired: the command is already decided
     * (reported first), or the stream moved. The actual last sequence number is read after the fact; when it is
     * back at the expected one (the expected event was missing when the decision was checked, and has been
     * appended since) it is reported as unknown.
     *
     * @param connection a connection outside a transaction
     * @param request    the decision without events that was not stored
     * @return what to throw
     */
    public RuntimeException decisionNotStored(Connection connection, AppendRequest request) {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        try {
            Optional<CommandRecord> earlier = reader.findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return new DuplicateCommandException(earlier.get());
            }
            long actual = reader.lastSequence(connection, stream);
            return new ConcurrencyConflictException(stream, expected,
                    actual == expected ? ConcurrencyConflictException.UNKNOWN : actual);
        } catch (SQLException lookup) {
            return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, lookup);
        }
    }
}
