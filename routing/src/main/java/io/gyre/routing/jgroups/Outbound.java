package io.gyre.routing.jgroups;

import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandDispatch;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.routing.MemberLeftException;
import io.gyre.routing.jgroups.internal.BusConfig;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.MemberOutbox;
import io.gyre.routing.jgroups.internal.OutboundCommand;
import io.gyre.routing.jgroups.internal.PendingRequests;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.serialization.Serializer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this member sends to others: one outbox per member of the view (commands, and replies to the commands it
 * ran for them), and the commands sent and not answered yet. A command leaves through its owner's outbox and waits
 * in {@link PendingRequests} for its reply; it ends exactly once, answered, failed because its member left (on the
 * view change, or by the sweep that catches what raced with it), expired long after its deadline, or failed because
 * this member closed.
 */
final class Outbound {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    private final String selfId;
    private final BusConfig config;
    private final Supplier<ClusterChannel> channel;
    private final Supplier<Serializer> serializer;
    private final BooleanSupplier closed;
    private final PendingRequests pending = new PendingRequests();
    private final Map<Address, MemberOutbox> outboxes = new ConcurrentHashMap<>();

    /**
     * @param selfId     this member's id
     * @param config     the bus's settings
     * @param channel    the channel, once started
     * @param serializer the node's serializer, once started
     * @param closed     true once the bus is closed: no outbox is created after that
     */
    Outbound(String selfId, BusConfig config, Supplier<ClusterChannel> channel, Supplier<Serializer> serializer,
             BooleanSupplier closed) {
        this.selfId = selfId;
        this.config = config;
        this.channel = channel;
        this.serializer = serializer;
        this.closed = closed;
    }

    /** @return the commands sent to other members and not answered yet */
    PendingRequests pending() {
        return pending;
    }

    /**
     * Queues a command in its owner's outbox; never blocks.
     *
     * @param command       the command
     * @param target        the owner's address
     * @param ownerId       the owner's member id
     * @param aggregateType the aggregate type the command was routed on
     * @param commandType   the command's registered type name
     * @param ringVersion   the version of the ring it was routed with
     * @param runnable      whether the owner advertises a handler for the command type: one that does not cannot
     *                      run it, so its leaving with the request unanswered still means "not run"
     * @return the delivery, failed as not run when the owner is no longer in the view
     */
    CommandDispatch send(CommandMessage command, Address target, String ownerId, String aggregateType,
                         String commandType, long ringVersion, boolean runnable) {
        MemberOutbox outbox = outboxFor(target, ownerId);
        CommandDispatch dispatch = new CommandDispatch(command);
        if (outbox == null || !outbox.offer(new OutboundCommand(dispatch, ownerId, aggregateType, commandType,
                ringVersion, serializer.get(), pending, outbox, runnable))) {
            dispatch.failNotRun(new MemberLeftException("Member " + ownerId + " left before " + command
                    + " could be sent"));
        }
        return dispatch;
    }

    /**
     * @return the outbox to a member of the current view, created on first use; null for one not in the view, or
     *         once the bus is closed
     */
    @Nullable MemberOutbox outboxFor(Address target, String name) {
        MemberOutbox existing = outboxes.get(target);
        if (existing != null) {
            return existing;
        }
        View view = channel.get().view();
        if (view == null || !view.containsMember(target) || closed.getAsBoolean()) {
            return null;
        }
        MemberOutbox outbox = outboxes.computeIfAbsent(target, address -> new MemberOutbox(address, name,
                channel.get()::send, config.maxInFlightPerMember(),
                config.maxMessageBytes() + WireFormat.FRAME_OVERHEAD));
        // The member may have left between the check above and the creation, and its departure been handled already
        // (the channel's view changes before onView runs): then nothing else would close this outbox in time, and
        // commands through it would wait for a member that is gone. Checked again, after the creation.
        // Likewise a close (which sets the state before closing the outboxes) may have passed meanwhile: an outbox
        // created after it would keep its thread for ever.
        View now = channel.get().view();
        if (now == null || !now.containsMember(target) || closed.getAsBoolean()) {
            if (outboxes.remove(target, outbox)) {
                outbox.close();
            }
            return null;
        }
        return outbox;
    }

    /**
     * Closes the outboxes to members that left the view and fails the requests pending to them.
     *
     * @param departed the addresses that left
     */
    void onDeparted(Set<Address> departed) {
        for (Address gone : departed) {
            MemberOutbox outbox = outboxes.remove(gone);
            if (outbox != null) {
                outbox.close();
            }
        }
        pending.failIf(request -> departed.contains(request.target()), this::memberLeft);
    }

    /** Ends requests whose callers stopped waiting long ago (the gateway answered them at their deadline). */
    void expire() {
        long now = System.nanoTime();
        pending.failIf(request -> now - request.expireAt() > 0, request -> request.runnable()
                ? new CommandOutcomeUnknownException("Member " + request.member() + " did not answer "
                        + request.dispatch().command() + " before its deadline", request.dispatch().command().commandId())
                : new CommandNotExecutedException("Member " + request.member() + " did not answer "
                        + request.dispatch().command() + " before its deadline, and has no handler for it",
                        request.dispatch().command().commandId()));
    }

    /**
     * Closes outboxes to addresses that are no longer in the view, and fails the requests still pending to such
     * addresses: what {@link #onDeparted} does on a departure; this catches what raced with it.
     *
     * @param view the current view, or null before the first one
     */
    void dropOutside(@Nullable View view) {
        if (view != null) {
            outboxes.entrySet().removeIf(entry -> {
                if (view.containsMember(entry.getKey())) {
                    return false;
                }
                entry.getValue().close();
                return true;
            });
            // After the outboxes closed: no request to these addresses is registered any more. A request to an
            // address outside the view can never be answered (its member is gone, and its replies would be
            // dropped as coming from outside the view); left pending, it would hold its caller until the deadline.
            pending.failIf(request -> !view.containsMember(request.target()), this::memberLeft);
        }
    }

    private MemberLeftException memberLeft(PendingRequests.Pending request) {
        if (log.isDebugEnabled()) {
            log.debug("Member {}: request {} for {} to {} ({}) failed: its member left the view", selfId,
                    request.id(), request.dispatch().command(), request.member(), request.target());
        }
        return new MemberLeftException("Member " + request.member() + " left before answering "
                + request.dispatch().command());
    }

    /** @return commands waiting in outboxes to be sent to other members */
    int waitingCommands() {
        return outboxes.values().stream().mapToInt(MemberOutbox::waitingCommands).sum();
    }

    /** @return true while some outbox holds replies or writes a frame */
    boolean sendingReplies() {
        return outboxes.values().stream().anyMatch(MemberOutbox::sendingReplies);
    }

    /** Closes every outbox: the commands still queued fail as not sent, because this member closes. */
    void closeOutboxes() {
        for (MemberOutbox outbox : outboxes.values()) {
            outbox.close(item -> new CommandBusClosedException("Member " + selfId + " closed before the command was "
                    + "sent"));
        }
        outboxes.clear();
    }

    /** Fails every pending request because this member closed. */
    void closed() {
        pending.failIf(request -> true, request -> new CommandBusClosedException("Member " + selfId
                + " closed before " + request.member() + " answered " + request.dispatch().command()));
    }

    /** Fails every pending request because this member crashed (tests). */
    void crashed() {
        pending.failIf(request -> true, request -> new MemberLeftException("Member " + selfId + " crashed before "
                + request.member() + " answered " + request.dispatch().command()));
    }
}
