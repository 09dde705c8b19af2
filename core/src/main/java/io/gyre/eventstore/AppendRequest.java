package io.gyre.eventstore;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One command's decision on one aggregate, for the store to keep atomically or not at all: the events it
 * produced (possibly none) and its outcome, under the command's id.
 *
 * <p>With events, the store appends them after {@code expected} and records the outcome with them. Without
 * events (the handler refused, or decided that nothing changes), the store records only the outcome, and only if
 * the stream's last event is still {@code expected}: a decision made on state that the stream has moved past is
 * refused with a {@link ConcurrencyConflictException} exactly as a stale append is, so it is made again on fresh
 * state and never reaches a caller.
 *
 * @param stream    the aggregate
 * @param expected  the last sequence number the decision was made on; never {@link ExpectedSequence#any()} for a
 *                  decision without events
 * @param commandId the id of the command, the unique key of its decision in the stream
 * <p>A command id names one command. A caller that picks its own ids (an idempotency key) may reuse one by mistake
 * for a different command; the {@code fingerprint}, a digest of the serialized command computed by the caller, lets
 * a store that already holds a decision under that id tell a re-delivery of the same command (same fingerprint:
 * answered with the stored decision) from a different command under a reused id (refused as such). A null
 * fingerprint means "unknown": it is never compared, so the stored decision is taken as the command's.
 *
 * @param stream      the aggregate
 * @param expected    the last sequence number the decision was made on; never {@link ExpectedSequence#any()} for a
 *                    decision without events
 * @param commandId   the id of the command, the unique key of its decision in the stream
 * @param events      the events in order, possibly none
 * @param outcome     the handler's result or refusal; a refusal stores no events
 * @param fingerprint a digest of the serialized command, 1 to {@value #MAX_FINGERPRINT_LENGTH} characters, or
 *                    null when unknown
 */
public record AppendRequest(StreamId stream, ExpectedSequence expected, String commandId, List<EventData> events,
                            CommandOutcome outcome, @Nullable String fingerprint) {

    /** The longest command id, in characters. */
    public static final int MAX_COMMAND_ID_LENGTH = 255;
    /** The longest command fingerprint, in characters (a SHA-256 in hexadecimal is 64). */
    public static final int MAX_FINGERPRINT_LENGTH = 128;

    /** Checks every part and copies the events. */
    public AppendRequest {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(outcome, "outcome");
        events = List.copyOf(events);
        if (commandId.isBlank() || commandId.length() > MAX_COMMAND_ID_LENGTH) {
            throw new IllegalArgumentException("commandId must be 1 to " + MAX_COMMAND_ID_LENGTH
                    + " characters and not blank, but was " + commandId.length() + " characters");
        }
        if (outcome instanceof CommandOutcome.Refusal && !events.isEmpty()) {
            throw new IllegalArgumentException("a refused command stores no events, but " + events.size()
                    + " were given for " + stream);
        }
        if (events.isEmpty() && expected == ExpectedSequence.any()) {
            throw new IllegalArgumentException("a decision without events must name the last sequence it was made "
                    + "on, not 'any' (" + stream + ")");
        }
        if (fingerprint != null && (fingerprint.isBlank() || fingerprint.length() > MAX_FINGERPRINT_LENGTH)) {
            throw new IllegalArgumentException("fingerprint must be null or 1 to " + MAX_FINGERPRINT_LENGTH
                    + " characters and not blank, but was " + fingerprint.length() + " characters");
        }
    }

    /**
     * A decision whose command's fingerprint is unknown.
     *
     * @param stream    the aggregate
     * @param expected  the last sequence number the decision was made on
     * @param commandId the id of the command
     * @param events    the events in order, possibly none
     * @param outcome   the handler's result or refusal
     */
    public AppendRequest(StreamId stream, ExpectedSequence expected, String commandId, List<EventData> events,
                         CommandOutcome outcome) {
        this(stream, expected, commandId, events, outcome, null);
    }

    /**
     * @param fingerprint a digest of the serialized command, or null when unknown
     * @return this decision with that fingerprint
     */
    public AppendRequest withFingerprint(@Nullable String fingerprint) {
        return new AppendRequest(stream, expected, commandId, events, outcome, fingerprint);
    }

    /**
     * @param expected the last sequence number to expect instead
     * @return this decision, expecting that
     */
    public AppendRequest withExpected(ExpectedSequence expected) {
        return new AppendRequest(stream, expected, commandId, events, outcome, fingerprint);
    }

    /**
     * Events with a result.
     *
     * @param stream    the aggregate
     * @param expected  the optimistic check on the aggregate's last sequence number
     * @param commandId the id of the command that produced the events
     * @param events    the events in order, at least one
     * @return the request, with no result value
     */
    public static AppendRequest events(StreamId stream, ExpectedSequence expected, String commandId,
                                       List<EventData> events) {
        if (events.isEmpty()) {
            throw new IllegalArgumentException("at least one event is needed (" + stream + ")");
        }
        return new AppendRequest(stream, expected, commandId, events, CommandOutcome.Result.of(null));
    }

    /** @return the aggregate's type name */
    public String aggregateType() {
        return stream.aggregateType();
    }

    /** @return the aggregate's id */
    public String aggregateId() {
        return stream.aggregateId();
    }

    /** @return true when only the outcome is recorded, with no event */
    public boolean decisionOnly() {
        return events.isEmpty();
    }
}
