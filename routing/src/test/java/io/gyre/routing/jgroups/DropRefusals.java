package io.gyre.routing.jgroups;

import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;

/**
 * A protocol, put on top of a member's stack, that drops every refusal of commands sent from outside a view, as a
 * full send queue at the refusing member would (refusals are sent once, never retransmitted). For tests.
 */
final class DropRefusals extends Protocol {

    private final AtomicInteger dropped = new AtomicInteger();

    /** @return how many refusals were dropped */
    int dropped() {
        return dropped.get();
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
        if (message.getArray() == null) {
            return false;
        }
        try {
            for (WireFormat.Decoded decoded : WireFormat.decode(message.getArray(), message.getOffset(),
                    message.getLength())) {
                if (decoded.message() instanceof WireMessage.OutsideViewRefusal) {
                    dropped.incrementAndGet();
                    return true;
                }
            }
        } catch (RuntimeException e) {
            // Not a frame of Gyre's: no refusal in it.
        }
        return false;
    }
}
