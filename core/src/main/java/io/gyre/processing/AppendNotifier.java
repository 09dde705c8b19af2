package io.gyre.processing;

/**
 * Tells tracking processors that events may have been appended elsewhere (another node, another process), so that
 * they read at once instead of at their next poll. A node already wakes its own processors after its own appends;
 * a notifier adds the appends of other nodes, for example PostgreSQL's {@code LISTEN/NOTIFY}. A notification is only
 * a hint: processors read what has committed, and still poll at their poll interval, so a lost notification costs
 * latency, never an event.
 */
@FunctionalInterface
public interface AppendNotifier {

    /**
     * @param listener called, on any thread, when events may have been appended; it returns at once
     * @return closing it stops the calls
     */
    SegmentOwnership.Registration subscribe(Runnable listener);
}
