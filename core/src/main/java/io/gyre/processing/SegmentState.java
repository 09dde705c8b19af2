package io.gyre.processing;

/** What a segment of a processor is doing on this node. */
public enum SegmentState {
    /** Another node runs it, or nobody yet. */
    NOT_OWNED,
    /**
     * This node was given the segment and is claiming it in the token store, or has not yet learnt from its
     * {@link SegmentOwnership} which segments it runs (just after the node started).
     */
    CLAIMING,
    /** Handling events, behind the end of the log as far as this node has read it. */
    CATCHING_UP,
    /** Handled everything committed that this node has read; waiting for more. */
    LIVE,
    /** A handler failed; the segment waits to try the event again (the other segments go on). */
    RETRYING,
    /** A handler kept failing and the error policy stopped the segment at that event; see its failure. */
    STOPPED,
    /**
     * The token store refused this node's claim or update: a newer owner holds the segment. The node leaves it
     * until its ownership changes again.
     */
    FENCED,
    /** Paused while the processor is reset. */
    PAUSED
}
