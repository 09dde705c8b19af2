package io.gyre.aggregate.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The event store as the repositories see it when snapshots are on: each stored append is reported to the
 * {@link Snapshotter}, which decides (a division) whether the stream is due a snapshot. Watching the store rather
 * than the repository keeps snapshots out of the command path's code. Internal: not part of Gyre's API.
 */
public final class SnapshotTrigger extends ForwardingEventStore {

    private final Snapshotter snapshotter;

    /**
     * @param delegate    the store
     * @param snapshotter told of every append that stored events
     */
    public SnapshotTrigger(EventStore delegate, Snapshotter snapshotter) {
        super(delegate);
        this.snapshotter = Objects.requireNonNull(snapshotter, "snapshotter");
    }

    @Override
    public AppendResult append(AppendRequest request) {
        return appended(request, super.append(request));
    }

    @Override
    public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
        // Telling the snapshotter only queues a snapshot, so it may run on the store's thread.
        return super.appendAsync(request).thenApply(result -> appended(request, result));
    }

    @Override
    public CompletableFuture<AppendResult> appendWithin(AppendRequest request, Duration timeLeft) {
        return delegate().appendWithin(request, timeLeft).thenApply(result -> appended(request, result));
    }

    private AppendResult appended(AppendRequest request, AppendResult result) {
        if (!request.events().isEmpty()) {
            snapshotter.appended(request.stream(), result.firstSequence(), result.lastSequence());
        }
        return result;
    }
}
