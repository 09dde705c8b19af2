package io.gyre.snapshot;

import io.gyre.eventstore.StreamId;
import java.time.Instant;
import java.util.Objects;

/**
 * An aggregate's state after one of its events, as stored.
 *
 * @param stream      the aggregate
 * @param sequence    the sequence number of the last event applied to the state, 0 or more
 * @param lastEventId the id of that event: a loader uses the snapshot only if the stored event at
 *                    {@code sequence} still has this id, so a snapshot is never applied to a stream whose tail was
 *                    lost and written again
 * @param type        the aggregate's class name
 * @param revision    the aggregate class's {@link io.gyre.serialization.Revision revision}
 * @param shape       a digest of the aggregate class's serialized fields (names and types, recursively): with the
 *                    type and revision, the version of the class the state was written by; a snapshot of any other
 *                    version is ignored
 * @param payload     the state as JSON text
 * @param takenAt     when it was taken
 */
public record Snapshot(StreamId stream, long sequence, String lastEventId, String type, int revision, String shape,
                       String payload, Instant takenAt) {

    /** Checks every part. */
    public Snapshot {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(lastEventId, "lastEventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(takenAt, "takenAt");
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must be 0 or more, but was " + sequence);
        }
        if (revision < 0) {
            throw new IllegalArgumentException("revision must be 0 or more, but was " + revision);
        }
    }

    /**
     * @param other another snapshot
     * @return true when both were written by the same version of the aggregate class (type, revision and shape)
     */
    public boolean sameVersionAs(Snapshot other) {
        return type.equals(other.type) && revision == other.revision && shape.equals(other.shape);
    }

    @Override
    public String toString() {
        return "Snapshot[" + stream + " at " + sequence + ", " + type + " revision " + revision + " shape " + shape
                + ", " + payload.length() + " chars, taken " + takenAt + "]";
    }
}
