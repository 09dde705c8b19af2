package io.gyre.serialization;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The upcasters of one node, by event class and the revision each rewrites from. Immutable; build it with
 * {@link #builder()} (a {@code Gyre} node builds it from {@code Gyre.builder().upcaster(...)}).
 */
public final class Upcasters {

    private static final Upcasters NONE = new Upcasters(Map.of());

    private final Map<Class<?>, Map<Integer, Upcaster>> byClass;

    private Upcasters(Map<Class<?>, Map<Integer, Upcaster>> byClass) {
        this.byClass = byClass;
    }

    /** @return no upcasters: every event must be stored at its class's current revision */
    public static Upcasters none() {
        return NONE;
    }

    /** @return an empty builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param type a class
     * @return its current revision: its {@link Revision}, else 0
     * @throws IllegalArgumentException when its {@link Revision} is negative
     */
    public static int revisionOf(Class<?> type) {
        return Revisions.of(type);
    }

    /**
     * @param type         an event class
     * @param fromRevision a revision
     * @return the upcaster that rewrites that revision of the class into the next, or null
     */
    public @Nullable Upcaster find(Class<?> type, int fromRevision) {
        Map<Integer, Upcaster> upcasters = byClass.get(type);
        return upcasters == null ? null : upcasters.get(fromRevision);
    }

    /** @return the event classes that have upcasters */
    public java.util.Set<Class<?>> eventTypes() {
        return byClass.keySet();
    }

    /** @return true when there is none */
    public boolean isEmpty() {
        return byClass.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Upcasters[");
        byClass.forEach((type, upcasters) -> text.append(type.getSimpleName()).append(' ')
                .append(upcasters.keySet()).append(' '));
        return text.toString().strip() + "]";
    }

    /** Collects upcasters, checking each at once. Not thread-safe. */
    public static final class Builder {

        private final Map<Class<?>, Map<Integer, Upcaster>> byClass = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * @param eventType    the event class, at its current {@link Revision}
         * @param fromRevision the stored revision the upcaster rewrites into {@code fromRevision + 1}: 0 or more and
         *                     below the class's current revision
         * @param upcaster     the rewrite
         * @return this builder
         * @throws IllegalArgumentException when the revision is out of range, or another upcaster of the class
         *                                  already starts from it
         */
        public Builder add(Class<?> eventType, int fromRevision, Upcaster upcaster) {
            Objects.requireNonNull(eventType, "eventType");
            Objects.requireNonNull(upcaster, "upcaster");
            int current = revisionOf(eventType);
            if (fromRevision < 0 || fromRevision >= current) {
                throw new IllegalArgumentException("An upcaster of " + eventType.getName() + " rewrites a stored "
                        + "revision into the next one, so it must start from 0 to " + (current - 1) + ", below the "
                        + "class's @Revision(" + current + "), but was from revision " + fromRevision
                        + (current == 0 ? "; annotate the class with @Revision(1) for its first upcaster" : ""));
            }
            Map<Integer, Upcaster> upcasters = byClass.computeIfAbsent(eventType, type -> new TreeMap<>());
            if (upcasters.containsKey(fromRevision)) {
                throw new IllegalArgumentException(eventType.getName() + " already has an upcaster from revision "
                        + fromRevision + "; each stored revision is rewritten by exactly one");
            }
            upcasters.put(fromRevision, upcaster);
            return this;
        }

        /** @return the immutable upcasters */
        public Upcasters build() {
            Map<Class<?>, Map<Integer, Upcaster>> copy = new LinkedHashMap<>();
            byClass.forEach((type, upcasters) -> copy.put(type, Map.copyOf(upcasters)));
            return new Upcasters(Map.copyOf(copy));
        }
    }
}
