package io.gyre.routing.jgroups.internal;

import io.gyre.GyreException;
import io.gyre.routing.MessageTooLargeException;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.serialization.Serializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outcome of a command run here for another member, waiting in that member's outbox; the result is serialized
 * on the outbox's thread, not on the worker that ran the command. Internal: not part of Gyre's API.
 */
public final class OutboundReply implements MemberOutbox.Outgoing {

    private static final Logger log = LoggerFactory.getLogger(OutboundReply.class);

    private final long requestId;
    private final String commandId;
    private final @Nullable Object result;
    private final @Nullable Throwable failure;
    private final Serializer serializer;
    private final MemberOutbox outbox;

    /**
     * @param requestId  the request answered
     * @param commandId  the id of the command it carried
     * @param result     the handler's result, when it succeeded
     * @param failure    the failure, or null on success
     * @param serializer the node's serializer
     * @param outbox     the requester's outbox, to send a smaller error if this reply is too large
     */
    public OutboundReply(long requestId, String commandId, @Nullable Object result, @Nullable Throwable failure,
                         Serializer serializer, MemberOutbox outbox) {
        this.requestId = requestId;
        this.commandId = commandId;
        this.result = result;
        this.failure = failure;
        this.serializer = serializer;
        this.outbox = outbox;
    }

    @Override
    public boolean isCommand() {
        return false;
    }

    @Override
    public WireMessage prepare() {
        if (failure != null) {
            return new Reply(requestId, null, ErrorCodec.encode(failure, commandId));
        }
        try {
            return new Reply(requestId, result == null ? null : serializer.serialize(result), null);
        } catch (GyreException e) {
            return new Reply(requestId, null, ErrorCodec.encode(e, commandId));
        }
    }

    @Override
    public void notSent(RuntimeException why) {
        if (why instanceof MessageTooLargeException && failure == null) {
            outbox.offer(new OutboundReply(requestId, commandId, null, new MessageTooLargeException("The result of "
                    + "request " + requestId + " is too large for the cluster: " + why.getMessage()), serializer,
                    outbox));
            return;
        }
        log.debug("Reply to request {} not sent: {}", requestId, why.toString());
    }
}
