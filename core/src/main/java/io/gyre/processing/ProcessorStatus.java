package io.gyre.processing;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A processor as a node sees it, segment by segment.
 *
 * @param name     the processor's name
 * @param kind     tracking or subscribing
 * @param segments every segment, in order (one for a subscribing processor)
 * @param logStall for a tracking processor whose reader on this node has read all the global log lets it read: the
 *                 stall that holds the rest back, when the event store reports one ({@link GlobalLogMonitor}); its
 *                 segments then look live although committed events wait. Null otherwise, and always for a
 *                 subscribing processor, which does not read the log
 * @param readFailure for a tracking processor whose reader on this node cannot read the global log: why, and since
 *                    when; its segments then look as they did at the last read. Null otherwise
 */
public record ProcessorStatus(String name, Kind kind, List<SegmentStatus> segments,
                              @Nullable GlobalLogStall logStall, @Nullable LogReadFailure readFailure) {

    /** The kinds of processor. */
    public enum Kind {
        /** A {@link TrackingProcessor}. */
        TRACKING,
        /** A {@link SubscribingProcessor}. */
        SUBSCRIBING
    }

    /** Checks and copies. */
    public ProcessorStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        segments = List.copyOf(segments);
    }

    /**
     * A status with no stall of the global log.
     *
     * @param name     the processor's name
     * @param kind     tracking or subscribing
     * @param segments every segment, in order
     */
    public ProcessorStatus(String name, Kind kind, List<SegmentStatus> segments) {
        this(name, kind, segments, null, null);
    }

    /**
     * A status whose reader reads the global log.
     *
     * @param name     the processor's name
     * @param kind     tracking or subscribing
     * @param segments every segment, in order
     * @param logStall the global log's stall that holds the reader back, or null
     */
    public ProcessorStatus(String name, Kind kind, List<SegmentStatus> segments, @Nullable GlobalLogStall logStall) {
        this(name, kind, segments, logStall, null);
    }

    /**
     * @return true when every segment this node runs is {@link SegmentState#LIVE} with no lag: it has handled
     *         everything committed that this node has read. Appends made through this node count at once; appends
     *         made elsewhere (another node, or directly on the store) count only once the reader has seen them, at
     *         the latest a poll interval later, unless an {@link AppendNotifier} reports them. Events the reader
     *         cannot see yet because the global log is stalled do not count either: see {@link #logStall()}. While
     *         the reader cannot read the log at all ({@link #readFailure()}) it is false
     */
    public boolean caughtUp() {
        return readFailure == null && segments.stream().filter(SegmentStatus::local)
                .allMatch(segment -> segment.state() == SegmentState.LIVE && segment.lagEvents() <= 0);
    }

    /**
     * @param segment a segment
     * @return its status
     * @throws IllegalArgumentException when the processor has no such segment
     */
    public SegmentStatus segment(int segment) {
        if (segment < 0 || segment >= segments.size()) {
            throw new IllegalArgumentException("Processor '" + name + "' has segments 0 to " + (segments.size() - 1)
                    + ", not " + segment);
        }
        return segments.get(segment);
    }
}
