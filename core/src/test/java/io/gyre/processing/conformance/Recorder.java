package io.gyre.processing.conformance;

import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.ResetHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A projection for tests: records every delivery of a {@link Numbered} event, in order, and fails on purpose when
 * told to. Thread-safe.
 */
public final class Recorder {

    /**
     * One call of the handler that returned.
     *
     * @param stream   the aggregate
     * @param sequence the event's sequence number
     * @param eventId  the event's id
     * @param token    its token, null in a subscribing processor
     * @param segment  the segment that delivered it
     * @param n        the payload's number
     * @param thread   the thread that ran the handler
     */
    public record Delivery(StreamId stream, long sequence, String eventId, TrackingToken token, int segment, long n,
                           String thread) {
    }

    private final List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
    private volatile Predicate<Delivery> failWhen = delivery -> false;
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger resets = new AtomicInteger();

    @EventHandler
    void on(Numbered event, EventContext context) {
        Delivery delivery = new Delivery(context.stream(), context.sequence(), context.eventId(), context.token(),
                context.segment(), event.n(), Thread.currentThread().getName());
        if (failWhen.test(delivery)) {
            failures.incrementAndGet();
            throw new IllegalStateException("failing on purpose on " + delivery.stream() + " #" + delivery.sequence());
        }
        deliveries.add(delivery);
    }

    @ResetHandler
    void clear() {
        deliveries.clear();
        resets.incrementAndGet();
    }

    /** @param condition deliveries to fail from now on (replacing the previous condition) */
    public void failWhen(Predicate<Delivery> condition) {
        this.failWhen = condition;
    }

    /** @return the deliveries so far, in the order they happened */
    public List<Delivery> deliveries() {
        synchronized (deliveries) {
            return List.copyOf(deliveries);
        }
    }

    /** @return how many deliveries there were */
    public int count() {
        return deliveries.size();
    }

    /** @return the delivered sequence numbers of each aggregate, in delivery order */
    public Map<StreamId, List<Long>> sequencesByStream() {
        Map<StreamId, List<Long>> result = new LinkedHashMap<>();
        for (Delivery delivery : deliveries()) {
            result.computeIfAbsent(delivery.stream(), stream -> new ArrayList<>()).add(delivery.sequence());
        }
        return result;
    }

    /** @return how many times the handler failed on purpose */
    public int failures() {
        return failures.get();
    }

    /** @return how many times the reset handler ran */
    public int resets() {
        return resets.get();
    }
}
