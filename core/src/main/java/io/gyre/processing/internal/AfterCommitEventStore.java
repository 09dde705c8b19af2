package io.gyre.processing.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's event store as its aggregates and users see it when it runs processors: every append that returns has
 * committed, and is then handed to the processors (subscribing handlers run, tracking readers wake up) before the
 * call returns. A failure there is logged and never reaches the appender, whose events are stored. Internal: not
 * part of Gyre's API.
 *
 * <p>An asynchronous append is handed to the processors on the given executor, before its future completes: its
 * store completes it on a writer thread, which must not run the processors' handlers (they would hold up every
 * append queued behind).
 */
public final class AfterCommitEventStore extends ForwardingEventStore {

    private static final Logger log = LoggerFactory.getLogger(AfterCommitEventStore.class);

    private final BiConsumer<AppendRequest, AppendResult> afterCommit;
    private final Executor executor;

    /**
     * @param delegate    the store
     * @param afterCommit called with each committed append
     * @param executor    runs {@code afterCommit} for asynchronous appends; a task it refuses (it stopped) runs on
     *                    the thread that completed the append
     */
    public AfterCommitEventStore(EventStore delegate, BiConsumer<AppendRequest, AppendResult> afterCommit,
                                 Executor executor) {
        super(delegate);
        this.afterCommit = Objects.requireNonNull(afterCommit, "afterCommit");
        Objects.requireNonNull(executor, "executor");
        this.executor = task -> {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        };
    }

    @Override
    public AppendResult append(AppendRequest request) {
        return committed(request, super.append(request));
    }

    @Override
    public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
        return super.appendAsync(request).thenApplyAsync(result -> committed(request, result), executor);
    }

    /** As {@link #append} when the store wrote on the calling thread, else as {@link #appendAsync}. */
    @Override
    public CompletableFuture<AppendResult> appendWithin(AppendRequest request, Duration timeLeft) {
        CompletableFuture<AppendResult> written = delegate().appendWithin(request, timeLeft);
        if (written.isDone()) {
            return written.thenApply(result -> committed(request, result));
        }
        return written.thenApplyAsync(result -> committed(request, result), executor);
    }

    private AppendResult committed(AppendRequest request, AppendResult result) {
        try {
            afterCommit.accept(request, result);
        } catch (RuntimeException e) {
            log.error("Event processors failed after an append of {}; the events are stored", request.stream(), e);
        }
        return result;
    }

    @Override
    public String toString() {
        return delegate().toString();
    }
}
