package io.gyre.processing;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The segments of one processor that a node owns at one moment, each with the epoch of that ownership.
 *
 * @param processor the processor's name
 * @param epochs    the owned segments and their epochs, copied and kept in segment order
 */
public record OwnedSegments(String processor, Map<Integer, Long> epochs) {

    /** Checks and copies. */
    public OwnedSegments {
        Objects.requireNonNull(processor, "processor");
        TreeMap<Integer, Long> sorted = new TreeMap<>();
        epochs.forEach((segment, epoch) -> {
            if (segment < 0 || epoch < 1) {
                throw new IllegalArgumentException("an owned segment must be 0 or more with an epoch of 1 or more, "
                        + "but was segment " + segment + " at epoch " + epoch);
            }
            sorted.put(segment, epoch);
        });
        epochs = Collections.unmodifiableMap(sorted);
    }

    /**
     * @param processor the processor's name
     * @return no segment
     */
    public static OwnedSegments none(String processor) {
        return new OwnedSegments(processor, Map.of());
    }
}
