package io.gyre.routing.jgroups;

import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;

/**
 * A protocol, put on top of a member's stack, that drops the advertisements one member id broadcasts while dropping
 * is on, as if they were still on their way: the member stays in the view, and its commands and replies go through.
 * Above the reliable-delivery protocols, so nothing dropped is retransmitted. For tests.
 */
final class DropAdvertisements extends Protocol {

    private final String memberId;
    private volatile boolean dropping = true;

    /** @param memberId the member whose advertisements are dropped, from the start */
    DropAdvertisements(String memberId) {
        this.memberId = memberId;
    }

    /** Lets the member's advertisements through from now on (the dropped ones stay lost). */
    void letThrough() {
        dropping = false;
    }

    @Override
    public Object up(Message message) {
        return dropped(message) ? null : up_prot.up(message);
    }

    @Override
    public void up(MessageBatch batch) {
        batch.removeIf(this::dropped, true);
        if (!batch.isEmpty()) {
            up_prot.up(batch);
        }
    }

    private boolean dropped(Message message) {
        if (!dropping || message.getDest() != null || message.getArray() == null) {
            return false;
        }
        try {
            for (WireFormat.Decoded decoded : WireFormat.decode(message.getArray(), message.getOffset(),
                    message.getLength())) {
                if (decoded.message() instanceof WireMessage.Advertisement ad && ad.memberId().equals(memberId)) {
                    return true;
                }
            }
        } catch (RuntimeException e) {
            // Not a frame of Gyre's: not an advertisement either.
        }
        return false;
    }
}
