package io.gyre.routing.jgroups.internal;

import io.gyre.command.CommandMessage;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jgroups.Address;
import org.jspecify.annotations.Nullable;

/**
 * Commands sent to other members and not answered yet, by request id. Each ends exactly once: answered, failed
 * because its member left, timed out, or failed because this member shut down. Internal: not part of Gyre's
 * API.
 */
public final class PendingRequests {

    /**
     * One command awaiting its reply.
     *
     * @param id       the request id
     * @param target   the member's address
     * @param member   the member's id
     * @param command  the command
     * @param future   completes with the reply
     * @param deadline {@link System#nanoTime()} after which it times out
     */
    public record Pending(long id, Address target, String member, CommandMessage command,
                          CompletableFuture<Object> future, long deadline) {
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

    /**
     * @param target   the member's address
     * @param member   the member's id
     * @param command  the command
     * @param deadline when it times out, in {@link System#nanoTime()}
     * @return the registered request
     */
    public Pending register(Address target, String member, CommandMessage command, long deadline) {
        Pending request = new Pending(ids.incrementAndGet(), target, member, command, new CompletableFuture<>(),
                deadline);
        pending.put(request.id(), request);
        // A caller that gives up (deadline, cancellation) frees the entry at once.
        request.future().whenComplete((value, failure) -> pending.remove(request.id()));
        return request;
    }

    /**
     * @param id a request id
     * @return the request, still pending, or null when it already ended
     */
    public @Nullable Pending get(long id) {
        return pending.get(id);
    }

    /**
     * @param id the request id of a reply
     * @return the request, removed, or null when it already ended
     */
    public @Nullable Pending take(long id) {
        return pending.remove(id);
    }

    /**
     * Fails every request that matches.
     *
     * @param which   the requests to fail
     * @param failure the exception for each
     */
    public void failIf(Predicate<Pending> which, Function<Pending, RuntimeException> failure) {
        for (Pending request : pending.values()) {
            if (which.test(request) && pending.remove(request.id(), request)) {
                request.future().completeExceptionally(failure.apply(request));
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
