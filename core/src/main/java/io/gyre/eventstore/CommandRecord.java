package io.gyre.eventstore;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the store holds of a decided command: the state it was decided on, the events it stored and its outcome.
 *
 * @param stream      the aggregate the command targeted
 * @param commandId   the command
 * @param decidedAt   the last sequence number of the stream the decision was made on, -1 for no stream
 * @param eventCount  how many events it stored (0 for a refusal or a decision that changed nothing); they have
 *                    the sequence numbers {@code decidedAt + 1} to {@code decidedAt + eventCount}
 * @param outcome     its result or refusal
 * @param fingerprint the digest of the serialized command it was decided for ({@link AppendRequest#fingerprint()}),
 *                    or null when that was unknown
 */
public record CommandRecord(StreamId stream, String commandId, long decidedAt, int eventCount,
                            CommandOutcome outcome, @Nullable String fingerprint) {

    /** Checks every part. */
    public CommandRecord {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(outcome, "outcome");
        if (decidedAt < -1 || eventCount < 0) {
            throw new IllegalArgumentException("bad command record: decided at " + decidedAt + " with " + eventCount
                    + " events");
        }
    }

    /**
     * A record whose command's fingerprint is unknown.
     *
     * @param stream     the aggregate the command targeted
     * @param commandId  the command
     * @param decidedAt  the last sequence number the decision was made on, -1 for no stream
     * @param eventCount how many events it stored
     * @param outcome    its result or refusal
     */
    public CommandRecord(StreamId stream, String commandId, long decidedAt, int eventCount, CommandOutcome outcome) {
        this(stream, commandId, decidedAt, eventCount, outcome, null);
    }

    /**
     * @param fingerprint the fingerprint of a command that carries this record's command id, or null when unknown
     * @return true when both fingerprints are known and differ: that command is not the one decided here, although
     *         it carries the same id
     */
    public boolean isOtherCommandThan(@Nullable String fingerprint) {
        return this.fingerprint != null && fingerprint != null && !this.fingerprint.equals(fingerprint);
    }

    /** @return the sequence number of its first event, or {@code decidedAt + 1} when it stored none */
    public long firstSequence() {
        return decidedAt + 1;
    }

    /** @return the sequence number of its last event, or {@code decidedAt} when it stored none */
    public long lastSequence() {
        return decidedAt + eventCount;
    }

    @Override
    public String toString() {
        return "command " + commandId + " on " + stream + " decided at " + decidedAt
                + (eventCount == 0 ? " with no event" : ", events " + firstSequence() + ".." + lastSequence())
                + (outcome instanceof CommandOutcome.Refusal refusal ? ", refused with " + refusal.exceptionType()
                : "");
    }
}
