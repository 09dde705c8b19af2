package io.gyre.routing.jgroups;

import io.gyre.eventstore.StreamId;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.routing.testmodel.LedgerMessages.LedgerOpened;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A read model shared by every member, as a database table would be: per aggregate, the next sequence it expects.
 * An event at that sequence is applied; an earlier one was handled before (delivery is at least once, and a segment
 * that moved starts again from its stored token) and is counted; a later one means an event was skipped or handled
 * out of order, and is recorded as a gap.
 */
final class Tally {

    private final Map<StreamId, Long> next = new HashMap<>();
    private final List<String> gaps = new ArrayList<>();
    private long handled;
    private long duplicates;

    @EventHandler
    void on(LedgerOpened event, EventContext context) {
        record(context);
    }

    @EventHandler
    void on(Posted event, EventContext context) {
        record(context);
    }

    private synchronized void record(EventContext context) {
        handled++;
        long expected = next.getOrDefault(context.stream(), 0L);
        if (context.sequence() == expected) {
            next.put(context.stream(), expected + 1);
        } else if (context.sequence() < expected) {
            duplicates++;
        } else {
            gaps.add(context.stream() + " sequence " + context.sequence() + " while expecting " + expected
                    + " (segment " + context.segment() + ", thread " + Thread.currentThread().getName() + ")");
        }
    }

    /** @return true when every stream's head (last sequence, -1 for none) has been applied */
    synchronized boolean caughtUpWith(Map<StreamId, Long> heads) {
        return heads.entrySet().stream().allMatch(head -> next.getOrDefault(head.getKey(), 0L) > head.getValue());
    }

    synchronized Map<StreamId, Long> heads() {
        return Map.copyOf(next);
    }

    synchronized List<String> gaps() {
        return List.copyOf(gaps);
    }

    synchronized long handled() {
        return handled;
    }

    synchronized long duplicates() {
        return duplicates;
    }
}
