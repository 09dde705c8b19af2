package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.processing.SegmentFailure;
import java.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * The event a segment's handlers are failing on: how many calls with it failed, the {@link SegmentFailure} the
 * status shows, and, transactionally, the failure whose attempts are used up. Attempts count per event: a failure of
 * another event starts the count again, while the status keeps the time the segment first failed on an event.
 * Written by the segment's loop only; the status is read anywhere. Internal: not part of Gyre's API.
 */
final class FailingEvent {

    private final Clock clock;
    private @Nullable String eventId;
    private int attempts;
    private volatile @Nullable SegmentFailure failure;
    /** Transactional: the failing event's attempts are used up; the policy applies without calling it again. */
    private @Nullable Throwable finalFailure;

    FailingEvent(Clock clock) {
        this.clock = clock;
    }

    /** @return the failure the status shows, null when the segment is not failing */
    @Nullable SegmentFailure status() {
        return failure;
    }

    /** @return true when the handlers are failing on this event */
    boolean is(String eventId) {
        return eventId.equals(this.eventId);
    }

    /** @return the id of the event the handlers are failing on, null when none */
    @Nullable String eventId() {
        return eventId;
    }

    /** @return how many calls with the failing event have failed */
    int attempts() {
        return attempts;
    }

    /** Counts a failed call of a handler with an event, and records it for the status. */
    int countAttempt(TrackedEvent tracked, Throwable error) {
        String id = tracked.event().eventId();
        if (!id.equals(eventId)) {
            eventId = id;
            attempts = 0;
        }
        attempts++;
        SegmentFailure previous = failure;
        failure = new SegmentFailure(id, tracked.event().stream(), tracked.event().sequence(),
                tracked.event().type(), tracked.token(), HandlerCalls.describe(error), error, attempts,
                previous != null && previous.eventId().equals(id) ? previous.since() : clock.instant());
        return attempts;
    }

    /** @return the failure whose attempts are used up (transactional), null when the event may be tried again */
    @Nullable Throwable finalFailure() {
        return finalFailure;
    }

    /** Transactional: the failing event's attempts are used up; its next turn applies the policy without a call. */
    void giveUp(Throwable error) {
        finalFailure = error;
    }

    /** Transactional: the failing event is handled in its turn again. */
    void keepTrying() {
        finalFailure = null;
    }

    /**
     * Gives the failing event a fresh set of attempts (a resumed segment). The event stays known, and the status
     * shows its failure, until it is handled: forgetting it left the failure in the status of a segment that had
     * handled the event since.
     */
    void restart() {
        attempts = 0;
        finalFailure = null;
    }

    /** The failing event was handled or dead-lettered: the segment is failing no more. */
    void clear() {
        eventId = null;
        attempts = 0;
        finalFailure = null;
        failure = null;
    }
}
