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

    /** @return the commands that came up from the watched sender, read or not by the member */
    int commandsFromWatched() {
        return commandsFromWatched.get();
    }

    @Override
    public Object up(Message message) {
        count(message);
        return up_prot.up(message);
    }

    @Override
    public void up(MessageBatch batch) {
        for (Message message : batch) {
            count(message);
        }
        up_prot.up(batch);
    }

    private void count(Message message) {
        Address sender = watched;
        if (sender == null || !sender.equals(message.getSrc()) || message.getArray() == null) {
            return;
        }
        try {
            for (WireFormat.Decoded decoded : WireFormat.decode(message.getArray(), message.getOffset(),
                    message.getLength())) {
                if (decoded.message() instanceof WireMessage.CommandRequest) {
                    commandsFromWatched.incrementAndGet();
                }
            }
        } catch (RuntimeException e) {
            // Not a frame of Gyre's: no command in it.
        }
    }
}
