package io.gyre.processing.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import java.util.Objects;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's event store as its aggregates and users see it when it runs processors: every append that returns has
 * committed, and is then handed to the processors (subscribing handlers run, tracking readers wake up) before the
 * call returns. A failure there is logged and never reaches the appender, whose events are stored. Internal: not
 * part of Gyre's API.
 */
public final class AfterCommitEventStore extends ForwardingEventStore {

    private static final Logger log = LoggerFactory.getLogger(AfterCommitEventStore.class);

    private final BiConsumer<AppendRequest, AppendResult> afterCommit;

    /**
     * @param delegate    the store
     * @param afterCommit called with each committed append
     */
    public AfterCommitEventStore(EventStore delegate, BiConsumer<AppendRequest, AppendResult> afterCommit) {
        super(delegate);
        this.afterCommit = Objects.requireNonNull(afterCommit, "afterCommit");
    }

    @Override
    public AppendResult append(AppendRequest request) {
        AppendResult result = super.append(request);
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
