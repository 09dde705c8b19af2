package io.gyre.routing.jgroups.internal;

import io.gyre.command.CommandDispatch;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jgroups.Address;
import org.jspecify.annotations.Nullable;

/**
 * Commands sent to other members and not answered yet, by request id. Each ends exactly once: answered, failed
 * because its member left, expired long after its deadline, or failed because this member shut down; whichever
 * ends it gives its place back to the member's outbox. Internal: not part of Gyre's API.
 */
public final class PendingRequests {

    /**
     * One command awaiting its reply.
     *
     * @param id       the request id
     * @param target   the member's address
     * @param member   the member's id
     * @param dispatch the delivery the reply completes
     * @param outbox   the member's outbox, whose place the request holds
     * @param expireAt {@link System#nanoTime()} after which nobody waits for the answer any more
     * @param runnable false when the member advertised no handler for the command, so it cannot have run it
     *                 whatever becomes of the request (its member leaving with the reply unsent, say)
     */
    public record Pending(long id, Address target, String member, CommandDispatch dispatch, MemberOutbox outbox,
                          long expireAt, boolean runnable) {
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

    /** @return a new request id */
    public long nextId() {
        return ids.incrementAndGet();
    }

    /**
     * @param request a request about to be sent
     */
    public void register(Pending request) {
        pending.put(request.id(), request);
    }

    /**
     * @param id a request id
     * @return the request, still pending, or null when it already ended
     */
    public @Nullable Pending get(long id) {
        return pending.get(id);
    }

    /**
     * Ends a request because its reply came.
     *
     * @param id the request id of a reply
     * @return the request, removed, or null when it already ended
     */
    public @Nullable Pending take(long id) {
        Pending request = pending.remove(id);
        if (request != null) {
            request.outbox().answered();
        }
        return request;
    }

    /**
     * Fails every request that matches: as "may have run" when its member could run it, else as "not run".
     *
     * @param which   the requests to fail
     * @param failure the exception for each
     */
    public void failIf(Predicate<Pending> which, Function<Pending, RuntimeException> failure) {
        for (Pending request : pending.values()) {
            if (which.test(request) && pending.remove(request.id(), request)) {
                request.outbox().answered();
                if (request.runnable()) {
                    request.dispatch().completeExceptionally(failure.apply(request));
                } else {
                    request.dispatch().failNotRun(failure.apply(request));
                }
            }
        }
    }

    /** @return the requests not answered yet */
    public Collection<Pending> all() {
        return pending.values();
    }

    /** @return how many requests are not answered yet */
    public int size() {
        return pending.size();
    }
}
