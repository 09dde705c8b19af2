package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One segment worker's queue: the items handed to it (by the shared reader, or by its own reads while detached), how
 * many of them are events (the reader's back-pressure counts events, not progress marks), the token of the last item
 * it was given ({@code assigned}, which only later events pass, so that an event is never queued twice, whoever read
 * it), and whether the reader serves it ({@code attached}).
 *
 * <p>Guarded by the lock of {@link SegmentQueues}, which alone changes it; {@link #attached()} is read anywhere.
 * Internal: not part of Gyre's API.
 */
final class SegmentQueue {

    private final ArrayDeque<Item> items = new ArrayDeque<>();
    private int events;
    /** The token of the last item queued (or, detached, the token to read on from). */
    private TrackingToken assigned = TrackingToken.START;
    /** Written under the lock, read anywhere. */
    private volatile boolean attached;

    /** @return true when the reader hands this queue its segment's events */
    boolean attached() {
        return attached;
    }

    void attached(boolean value) {
        attached = value;
    }

    /** @return the token of the last item queued, or the token to read on from when detached */
    TrackingToken assigned() {
        return assigned;
    }

    /** Sets where the queue stands: the next item must come after {@code token}. */
    void assign(TrackingToken token) {
        assigned = token;
    }

    /** @return true when an item at {@code token} comes after those given so far */
    boolean isAhead(TrackingToken token) {
        return token.compareTo(assigned) > 0;
    }

    /** Queues an event of the segment; the caller has checked that it is {@link #isAhead ahead}. */
    void addEvent(TrackedEvent tracked) {
        items.addLast(new Item.Event(tracked));
        events++;
        assigned = tracked.token();
    }

    /** Queues a progress mark at the end of a batch, unless the queue already stands there. */
    void markProgress(TrackedEvent last) {
        if (isAhead(last.token())) {
            items.addLast(new Item.Progress(last.token(), last.event().timestamp()));
            assigned = last.token();
        }
    }

    /**
     * @param maxEvents the most events to take
     * @return the next items, up to {@code maxEvents} events and the progress marks between them
     */
    List<Item> take(int maxEvents) {
        List<Item> chunk = new ArrayList<>(Math.min(items.size(), maxEvents + 1));
        int taken = 0;
        while (!items.isEmpty()) {
            Item next = items.peekFirst();
            if (next instanceof Item.Event) {
                if (taken == maxEvents) {
                    break;
                }
                taken++;
            }
            chunk.add(items.pollFirst());
        }
        events -= taken;
        return chunk;
    }

    /** Puts items back at the head, in their order. */
    void requeueFront(List<Item> returned) {
        for (int i = returned.size() - 1; i >= 0; i--) {
            Item item = returned.get(i);
            items.addFirst(item);
            if (item instanceof Item.Event) {
                events++;
            }
        }
    }

    /** Drops what is queued: the worker goes on from {@code from}. */
    void clear(TrackingToken from) {
        items.clear();
        events = 0;
        assigned = from;
    }

    /** @return true when nothing is queued */
    boolean isEmpty() {
        return items.isEmpty();
    }

    /** @return how many events are queued */
    int queuedEvents() {
        return events;
    }
}
