package io.gyre.routing.jgroups.internal;

import io.gyre.command.CommandDispatch;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.routing.MemberLeftException;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jspecify.annotations.Nullable;

/**
 * A command on its way to the member that owns its aggregate, waiting in that member's outbox. When its turn comes
 * it is dropped if its deadline passed or its sender withdrew it; otherwise its delivery
 * {@linkplain CommandDispatch#start() starts}, it is serialized and registered as pending, unless its member left
 * meanwhile (the outbox is closed). Until then it has not left this member, and a failure to send it is reported as
 * "not run". A command for an owner that advertises no handler for it (a rolling upgrade) is sent without starting
 * its delivery: that owner cannot run it, so it stays "not run" whatever becomes of the request. Internal: not part
 * of Gyre's API.
 */
public final class OutboundCommand implements MemberOutbox.Outgoing {

    /** How long a sent command stays registered after its deadline, to take a late reply. */
    private static final long EXPIRY_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final CommandDispatch dispatch;
    private final String memberId;
    private final String aggregateType;
    private final String commandType;
    private final long ringVersion;
    private final Serializer serializer;
    private final PendingRequests pending;
    private final MemberOutbox outbox;
    private final boolean runnable;
    private long requestId;

    /**
     * @param dispatch    the delivery to complete with the member's reply
     * @param memberId      the owner's member id
     * @param aggregateType the target aggregate's type name
     * @param commandType   the command's registered type name
     * @param ringVersion the ring version it was routed with
     * @param serializer  the node's serializer
     * @param pending     where sent commands wait for their reply
     * @param outbox      the owner's outbox
     * @param runnable    false when the owner advertised no handler for the command type (a rolling upgrade), so
     *                    that it cannot have run the command whatever becomes of the request
     */
    public OutboundCommand(CommandDispatch dispatch, String memberId, String aggregateType, String commandType,
                           long ringVersion, Serializer serializer, PendingRequests pending, MemberOutbox outbox,
                           boolean runnable) {
        this.dispatch = dispatch;
        this.memberId = memberId;
        this.aggregateType = aggregateType;
        this.commandType = commandType;
        this.ringVersion = ringVersion;
        this.serializer = serializer;
        this.pending = pending;
        this.outbox = outbox;
        this.runnable = runnable;
    }

    @Override
    public boolean isCommand() {
        return true;
    }

    @Override
    public @Nullable WireMessage prepare() {
        CommandMessage command = dispatch.command();
        if (command.isLate()) {
            dispatch.withdraw(new CommandNotExecutedException(command + " waited past its deadline to be sent to "
                    + "member " + memberId + " and was dropped unrun", command.commandId()));
            return null;
        }
        // An owner without a handler for the command cannot run it: its delivery is not started, so that it stays
        // "not run" whatever becomes of the request (the deadline passing while it is in flight, the owner leaving).
        if (runnable ? !dispatch.start() : !dispatch.isWaiting()) {
            return null;
        }
        SerializedValue payload = serializer.serialize(command.payload());
        String metadata = serializer.serializeMetadata(command.metadata());
        long remaining = command.deadline() == null ? Long.MAX_VALUE : command.deadline().remainingNanos();
        long id = pending.nextId();
        long expireAt = System.nanoTime() + Math.min(remaining, TimeUnit.HOURS.toNanos(1)) + EXPIRY_GRACE_NANOS;
        CommandRequest request = new CommandRequest(id, ringVersion, aggregateType, command.commandId(),
                command.attempt(), command.callerChosenId(), remaining, commandType, command.routingKey(), metadata,
                payload.data());
        // Registered last, once nothing can fail any more, and before the frame leaves: a reply may come at once.
        // Only while the outbox is open: the member's departure closes it and then fails the requests pending to
        // the member, so a request registered after that would wait for a reply that can never come (the member is
        // gone, and replies from outside the view are dropped) until its deadline. This command has not left.
        PendingRequests.Pending entry = new PendingRequests.Pending(id, outbox.target(), memberId, dispatch, outbox,
                expireAt, runnable);
        if (!outbox.whileOpen(() -> pending.register(entry))) {
            dispatch.failNotRun(new MemberLeftException("Member " + memberId + " left while " + command + " was "
                    + "being sent to it; it did not leave this member"));
            return null;
        }
        requestId = id;
        return request;
    }

    @Override
    public void notSent(RuntimeException why) {
        if (requestId != 0) {
            pending.take(requestId);
        }
        dispatch.failNotRun(why);
    }

    /** @return the delivery */
    public CommandDispatch dispatch() {
        return dispatch;
    }

    /** @param address an address @return true when this command goes to it */
    boolean goesTo(Address address) {
        return outbox.target().equals(address);
    }
}
