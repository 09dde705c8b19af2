package io.gyre.examples.bench;

import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;

/**
 * A protocol, put right above the transport, that makes a member stop reading while frozen, as a paused process
 * or a member drowning in work does: the threads that read its connections park, its sockets fill up, and writes
 * to it back up at the sender.
 */
final class FrozenMember extends Protocol {

    private boolean frozen;

    synchronized void freeze() {
        frozen = true;
    }

    synchronized void thaw() {
        frozen = false;
        notifyAll();
    }

    private synchronized void awaitThaw() {
        while (frozen) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public Object up(Message message) {
        awaitThaw();
        return up_prot.up(message);
    }

    @Override
    public void up(MessageBatch batch) {
        awaitThaw();
        up_prot.up(batch);
    }
}
