package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandIdReusedException;
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
 * Tells why a decision was not stored, by looking at what the store's checks guard rather than at the text of the
 * database's error: the command is already decided (reported first, since the first decision on a command id is
 * final: the caller is answered with the stored {@link CommandRecord}, unless the command's fingerprint shows that
 * a different command reused the id, {@link CommandIdReusedException}), or the stream is not where the decision
 * expected it ({@link ConcurrencyConflictException}), or, for a unique key that fired although neither moved, an
 * event id used before ({@link EventRejectedException}). The look-ups run after the refused statement, in a
 * snapshot of their own: whatever kept the decision out has committed by then (PostgreSQL and H2 make an insert
 * wait for an uncommitted holder of its key to finish). Internal: not part of Gyre's API.
 */
public final class ConflictDiagnosis {

    private final StreamReader reader;
    private final Failures failures;

    /**
     * @param reader   looks up commands and last sequence numbers
     * @param failures translates driver errors that are not about the decision's keys
     */
    public ConflictDiagnosis(StreamReader reader, Failures failures) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.failures = Objects.requireNonNull(failures, "failures");
    }

    /**
     * Why a decision wrote nothing although no statement failed: its command id is decided, or its stream's last
     * event is not the expected one (moved past it, or never had it). The actual last sequence number is read after
     * the fact; when it is back at the expected one (the expected event was missing when the decision was checked,
     * and has been appended since) it is reported as unknown.
     *
     * @param connection a connection outside a transaction
     * @param request    the decision that was not stored
     * @return what to throw
     */
    public RuntimeException notStored(Connection connection, AppendRequest request) {
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        try {
            Optional<CommandRecord> earlier = reader.findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return decidedBefore(earlier.get(), request);
            }
            long actual = reader.lastSequence(connection, stream);
            return new ConcurrencyConflictException(stream, expected,
                    actual == expected ? ConcurrencyConflictException.UNKNOWN : actual);
        } catch (SQLException lookup) {
            return new ConcurrencyConflictException(stream, expected, ConcurrencyConflictException.UNKNOWN, lookup);
        }
    }

    /**
     * Why the database refused a statement of a decision: a unique key (a writer of the same stream or command id
     * that committed while this one waited for it, or an event id used before) is diagnosed like
     * {@link #notStored}; anything else is translated as the failure it is.
     *
     * @param connection a connection outside a transaction (the refused one rolled back)
     * @param request    the decision the database refused
     * @param refusal    the database's error
     * @return what to throw
     */
    public RuntimeException refused(Connection connection, AppendRequest request, SQLException refusal) {
        if (!SqlErrors.isUniqueViolation(refusal)) {
            return failures.of(Appender.describe(request), refusal);
        }
        StreamId stream = request.stream();
        long expected = request.expected().lastSequence();
        long actual;
        try {
            Optional<CommandRecord> earlier = reader.findCommand(connection, stream, request.commandId());
            if (earlier.isPresent()) {
                return decidedBefore(earlier.get(), request);
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
     * @param stored  the decision stored under the request's command id
     * @param request a decision of a command with that id
     * @return the stored decision to answer with, or the refusal of a different command that reused the id
     */
    static RuntimeException decidedBefore(CommandRecord stored, AppendRequest request) {
        String fingerprint = request.fingerprint();
        if (fingerprint != null && stored.isOtherCommandThan(fingerprint)) {
            return new CommandIdReusedException(stored, fingerprint);
        }
        return new DuplicateCommandException(stored);
    }
}
