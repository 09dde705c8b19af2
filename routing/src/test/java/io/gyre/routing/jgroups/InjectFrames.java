package io.gyre.routing.jgroups;

import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;
import org.jspecify.annotations.Nullable;

/**
 * A protocol, put on top of a member's stack, that hands the member frames as if they came from any address (one
 * outside the view that a peer made up, or a member of the view), past the transport and the reliable-delivery
 * protocols below; and counts the commands that come up from one watched sender. For tests.
 */
final class InjectFrames extends Protocol {

    private volatile @Nullable Address watched;
    private final AtomicInteger commandsFromWatched = new AtomicInteger();

    /**
     * @param from  the sender the member is to see
     * @param frame the frame, as a sender would send it
     */
    void inject(Address from, byte[] frame) {
        Message message = new BytesMessage(null, frame);
        message.setSrc(from);
        up_prot.up(message);
    }

    /** @param sender the address whose commands {@link #commandsFromWatched()} counts from now on */
    void watch(Address sender) {
        watched = sender;
    }

    /** @return the commands that came up from the watched sender and that the member has handled (read or not) */
    int commandsFromWatched() {
        return commandsFromWatched.get();
    }

    /** Counts after the member has handled the message: a count seen means the member is done with it. */
    @Override
    public Object up(Message message) {
        int commands = commands(message);
        Object result = up_prot.up(message);
        commandsFromWatched.addAndGet(commands);
        return result;
    }

    @Override
    public void up(MessageBatch batch) {
        int commands = 0;
        for (Message message : batch) {
            commands += commands(message);
        }
        up_prot.up(batch);
        commandsFromWatched.addAndGet(commands);
    }

    private int commands(Message message) {
        Address sender = watched;
        if (sender == null || !sender.equals(message.getSrc()) || message.getArray() == null) {
            return 0;
        }
        int commands = 0;
        try {
            for (WireFormat.Decoded decoded : WireFormat.decode(message.getArray(), message.getOffset(),
                    message.getLength())) {
                if (decoded.message() instanceof WireMessage.CommandRequest) {
                    commands++;
                }
            }
        } catch (RuntimeException e) {
            // Not a frame of Gyre's: no command in it.
        }
        return commands;
    }
}
