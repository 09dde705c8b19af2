package io.gyre.processing.internal;

import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.time.Instant;

/** One entry of a segment's queue. Internal: not part of Gyre's API. */
sealed interface Item {

    /** @return the token the segment has passed once it is done with this item */
    TrackingToken token();

    /** @return the timestamp of the event at {@link #token()} */
    Instant timestamp();

    /**
     * An event of the segment.
     *
     * @param tracked the event and its token
     */
    record Event(TrackedEvent tracked) implements Item {

        @Override
        public TrackingToken token() {
            return tracked.token();
        }

        @Override
        public Instant timestamp() {
            return tracked.event().timestamp();
        }
    }

    /**
     * The end of a batch read from the log: the segment has nothing more up to here, so its token may move here
     * even when the batch held none of its events.
     *
     * @param token     the token of the batch's last event
     * @param timestamp that event's timestamp
     */
    record Progress(TrackingToken token, Instant timestamp) implements Item {
    }
}
