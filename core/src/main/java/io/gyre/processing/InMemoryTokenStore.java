package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A {@link TokenStore} in the heap, for tests and for nodes on an {@link io.gyre.eventstore.InMemoryEventStore}:
 * everything is lost with the process, so processors replay the log from the start after a restart. Every call
 * is serialized by one monitor, which makes each rule of {@link TokenStore} atomic.
 */
public final class InMemoryTokenStore implements TokenStore {

    private final Clock clock;
    private final Map<String, TreeMap<Integer, SegmentToken>> rows = new java.util.HashMap<>();

    /** Creates an empty store stamping rows with the system clock. */
    public InMemoryTokenStore() {
        this(Clock.systemUTC());
    }

    /**
     * @param clock stamps {@link SegmentToken#updatedAt()}
     */
    public InMemoryTokenStore(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public synchronized void initialize(String processor, int segments) {
        Objects.requireNonNull(processor, "processor");
        if (segments < 1) {
            throw new IllegalArgumentException("segments must be 1 or more, but was " + segments);
        }
        TreeMap<Integer, SegmentToken> existing = rows.get(processor);
        if (existing != null) {
            if (existing.size() != segments) {
                throw ProcessorDefinitionException.segmentCountChanged(processor, existing.size(), segments);
            }
            return;
        }
        TreeMap<Integer, SegmentToken> created = new TreeMap<>();
        for (int segment = 0; segment < segments; segment++) {
            created.put(segment, new SegmentToken(processor, segment, TrackingToken.START, null, 0, clock.instant()));
        }
        rows.put(processor, created);
    }

    @Override
    public synchronized TrackingToken claim(String processor, int segment, String owner, long epoch) {
        checkEpoch(epoch);
        SegmentToken row = row(processor, segment);
        boolean repeated = row.epoch() == epoch && owner.equals(row.owner());
        if (row.epoch() >= epoch && !repeated) {
            throw new StaleSegmentOwnerException(processor, segment, owner, epoch, row.owner(), row.epoch());
        }
        put(new SegmentToken(processor, segment, row.token(), owner, epoch, clock.instant()));
        return row.token();
    }

    @Override
    public synchronized void update(String processor, int segment, String owner, long epoch, TrackingToken token) {
        Objects.requireNonNull(token, "token");
        SegmentToken row = row(processor, segment);
        if (row.epoch() != epoch || !owner.equals(row.owner())) {
            throw new StaleSegmentOwnerException(processor, segment, owner, epoch, row.owner(), row.epoch());
        }
        put(new SegmentToken(processor, segment, token, owner, epoch, clock.instant()));
    }

    @Override
    public synchronized void release(String processor, int segment, String owner, long epoch) {
        SegmentToken row = row(processor, segment);
        if (row.epoch() == epoch && owner.equals(row.owner())) {
            put(new SegmentToken(processor, segment, row.token(), null, epoch, clock.instant()));
        }
    }

    @Override
    public synchronized List<SegmentToken> tokens(String processor) {
        TreeMap<Integer, SegmentToken> existing = rows.get(processor);
        return existing == null ? List.of() : List.copyOf(new ArrayList<>(existing.values()));
    }

    private SegmentToken row(String processor, int segment) {
        TreeMap<Integer, SegmentToken> existing = rows.get(processor);
        SegmentToken row = existing == null ? null : existing.get(segment);
        if (row == null) {
            throw new IllegalStateException("Processor '" + processor + "' has no token row for segment " + segment
                    + (existing == null ? "; initialize(...) it first" : " (it has " + existing.size()
                    + " segments)"));
        }
        return row;
    }

    private void put(SegmentToken row) {
        rows.get(row.processor()).put(row.segment(), row);
    }

    private static void checkEpoch(long epoch) {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be 1 or more, but was " + epoch);
        }
    }
}
