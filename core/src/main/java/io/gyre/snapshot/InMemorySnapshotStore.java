package io.gyre.snapshot;

import io.gyre.eventstore.StreamId;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** A {@link SnapshotStore} in memory, for tests and single-process use with an in-memory event store. */
public final class InMemorySnapshotStore implements SnapshotStore {

    private final ConcurrentMap<StreamId, Snapshot> snapshots = new ConcurrentHashMap<>();

    @Override
    public Optional<Snapshot> latest(StreamId stream) {
        return Optional.ofNullable(snapshots.get(Objects.requireNonNull(stream, "stream")));
    }

    @Override
    public void store(Snapshot snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        snapshots.merge(snapshot.stream(), snapshot, (stored, offered) ->
                stored.sameVersionAs(offered) && stored.sequence() > offered.sequence() ? stored : offered);
    }

    /**
     * Replaces a stream's snapshot as given, without any check: for tests that plant an old or broken snapshot.
     *
     * @param snapshot the snapshot to keep
     */
    public void put(Snapshot snapshot) {
        snapshots.put(snapshot.stream(), snapshot);
    }

    /** @return the number of snapshots held */
    public int size() {
        return snapshots.size();
    }
}
