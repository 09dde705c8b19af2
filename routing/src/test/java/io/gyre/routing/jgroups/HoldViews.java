package io.gyre.routing.jgroups;

import org.jgroups.Event;
import org.jgroups.stack.Protocol;

/**
 * A protocol, put on top of a member's stack, that holds each new view on its way up to the channel while holding
 * is on: the member's transport and group membership protocol have the view, its channel and Gyre do not yet, as on
 * a member that installs a view later than the newcomer it names. The thread that carries the view waits (with the
 * default stack, the one reading the coordinator's connection). For tests.
 */
final class HoldViews extends Protocol {

    private boolean holding;
    private int held;

    /** Holds the views that come from now on, until {@link #release()}. */
    synchronized void hold() {
        holding = true;
    }

    /** Lets the held view, and every later one, through. */
    synchronized void release() {
        holding = false;
        notifyAll();
    }

    /** @return true while a view is waiting here */
    synchronized boolean holdsAView() {
        return held > 0;
    }

    @Override
    public Object up(Event event) {
        if (event.getType() == Event.VIEW_CHANGE) {
            awaitRelease();
        }
        return up_prot.up(event);
    }

    private synchronized void awaitRelease() {
        held++;
        try {
            while (holding) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } finally {
            held--;
        }
    }
}
