package io.gyre.eventstore;

import java.util.List;
import java.util.Objects;

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
 * @param events    the events in order, possibly none
 * @param outcome   the handler's result or refusal; a refusal stores no events
 */
public record AppendRequest(StreamId stream, ExpectedSequence expected, String commandId, List<EventData> events,
                            CommandOutcome outcome) {

    /** The longest command id, in characters. */
    public static final int MAX_COMMAND_ID_LENGTH = 255;

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
