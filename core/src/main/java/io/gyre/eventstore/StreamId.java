package io.gyre.eventstore;

import java.util.Objects;

/**
 * Names one aggregate's event stream: the aggregate's type name and its id. Identity in Gyre is always this
 * pair, so two aggregate types may use the same id without ever sharing a stream, a command key or a cache entry.
 *
 * @param aggregateType the aggregate's stable type name ({@code @Aggregate(name = ...)}): 1 to
 *                      {@value #MAX_TYPE_LENGTH} letters, digits or {@code . _ -}
 * @param aggregateId   the aggregate's id: 1 to {@value #MAX_ID_LENGTH} characters, not blank
 */
public record StreamId(String aggregateType, String aggregateId) {

    /** The longest aggregate type name, in characters. */
    public static final int MAX_TYPE_LENGTH = 100;
    /** The longest aggregate id, in characters; every store keeps ids of this length. */
    public static final int MAX_ID_LENGTH = 255;


    /** Checks both parts. */
    public StreamId {
        checkTypeName(aggregateType);
        checkId(aggregateId);
    }

    /**
     * @param aggregateType the aggregate's type name
     * @param aggregateId   the aggregate's id
     * @return the stream id
     * @throws IllegalArgumentException when either part breaks its rule; the message names the value
     */
    public static StreamId of(String aggregateType, String aggregateId) {
        return new StreamId(aggregateType, aggregateId);
    }

    /**
     * Checks an aggregate type name.
     *
     * @param name the name
     * @return the name
     * @throws IllegalArgumentException when it is empty, too long or has other characters than letters, digits
     *                                  and {@code . _ -}
     */
    public static String checkTypeName(String name) {
        Objects.requireNonNull(name, "aggregateType");
        if (!isTypeName(name)) {
            throw new IllegalArgumentException("An aggregate type name must be 1 to " + MAX_TYPE_LENGTH
                    + " letters, digits or . _ -, but was '" + abbreviate(name) + "' (" + name.length()
                    + " characters)");
        }
        return name;
    }

    /**
     * Checks an aggregate id.
     *
     * @param id the id
     * @return the id
     * @throws IllegalArgumentException when it is blank or longer than {@value #MAX_ID_LENGTH} characters
     */
    public static String checkId(String id) {
        Objects.requireNonNull(id, "aggregateId");
        if (id.isBlank()) {
            throw new IllegalArgumentException("An aggregate id must not be empty or blank, but was '" + id + "'");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw new IllegalArgumentException("An aggregate id must be at most " + MAX_ID_LENGTH
                    + " characters, but was " + id.length() + " ('" + abbreviate(id) + "')");
        }
        return id;
    }

    /**
     * {@code [A-Za-z0-9._-]{1,100}}, checked by hand: every command and every event read builds a stream id, and a
     * regular expression's matcher cost more than the rest of the record.
     */
    private static boolean isTypeName(String name) {
        int length = name.length();
        if (length == 0 || length > MAX_TYPE_LENGTH) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = name.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '_' || c == '-';
            if (!allowed) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(String value) {
        return value.length() <= 60 ? value : value.substring(0, 57) + "...";
    }

    @Override
    public String toString() {
        return aggregateType + " '" + aggregateId + "'";
    }
}
