package io.gyre;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Immutable string key/value pairs that travel with a command or an event (correlation ids, user, tenant).
 * Keys and values are non-null strings so that metadata serializes the same way on every store and wire.
 *
 * @param entries the pairs, copied and kept in key order
 */
public record Metadata(Map<String, String> entries) {

    private static final Metadata EMPTY = new Metadata(Map.of());

    /**
     * Copies and checks the entries.
     *
     * @throws NullPointerException when a key or value is null
     */
    public Metadata {
        Objects.requireNonNull(entries, "entries");
        TreeMap<String, String> sorted = new TreeMap<>();
        entries.forEach((key, value) -> sorted.put(
                Objects.requireNonNull(key, "metadata key"),
                Objects.requireNonNull(value, () -> "metadata value of key '" + key + "'")));
        entries = java.util.Collections.unmodifiableMap(sorted);
    }

    /** @return metadata with no entries */
    public static Metadata empty() {
        return EMPTY;
    }

    /**
     * @param key   the key
     * @param value the value
     * @return metadata with the one pair
     */
    public static Metadata of(String key, String value) {
        return new Metadata(Map.of(key, value));
    }

    /**
     * @param entries the pairs
     * @return metadata with these pairs
     */
    public static Metadata from(Map<String, String> entries) {
        return entries.isEmpty() ? EMPTY : new Metadata(entries);
    }

    /**
     * @param key   the key to add or replace
     * @param value its value
     * @return a copy with the pair added
     */
    public Metadata with(String key, String value) {
        TreeMap<String, String> copy = new TreeMap<>(entries);
        copy.put(key, value);
        return new Metadata(copy);
    }

    /**
     * @param other pairs that win over this metadata's pairs with the same key
     * @return a copy with the other pairs added
     */
    public Metadata and(Metadata other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        TreeMap<String, String> copy = new TreeMap<>(entries);
        copy.putAll(other.entries);
        return new Metadata(copy);
    }

    /**
     * @param key the key
     * @return the value, or null when absent
     */
    public @org.jspecify.annotations.Nullable String get(String key) {
        return entries.get(key);
    }

    /** @return true when there are no entries */
    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
