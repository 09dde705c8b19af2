package io.gyre.processing.internal;

import java.nio.charset.StandardCharsets;

/**
 * Puts each aggregate in one segment of a processor: XXH64 (seed 0) of the UTF-8 bytes of the aggregate type, a zero
 * byte, and the aggregate id, taken unsigned modulo the segment count. The zero byte cannot occur in a type name, so
 * ("ab", "c") and ("a", "bc") are different keys. The formula is part of the stored state: tokens of a segment only
 * mean something while every node computes the same segment for every event, on every JVM and Gyre version, which is
 * why it depends neither on {@link String#hashCode()} nor on a library. Internal: not part of Gyre's API.
 */
public final class Segmenter {

    private Segmenter() {
    }

    /**
     * @param aggregateType the aggregate's type name
     * @param aggregateId   its id
     * @return the 64-bit hash of the pair
     */
    public static long hash(String aggregateType, String aggregateId) {
        int length = aggregateType.length() + 1 + aggregateId.length();
        byte[] key = BUFFER.get();
        if (key.length < length) {
            key = new byte[Math.max(length, key.length * 2)];
            BUFFER.set(key);
        }
        int at = ascii(aggregateType, key, 0);
        if (at >= 0) {
            key[at] = 0;
            at = ascii(aggregateId, key, at + 1);
            if (at >= 0) {
                return Xxh64.hash(key, 0, at, 0);
            }
        }
        byte[] type = aggregateType.getBytes(StandardCharsets.UTF_8);
        byte[] id = aggregateId.getBytes(StandardCharsets.UTF_8);
        byte[] utf8 = new byte[type.length + 1 + id.length];
        System.arraycopy(type, 0, utf8, 0, type.length);
        System.arraycopy(id, 0, utf8, type.length + 1, id.length);
        return Xxh64.hash(utf8, 0, utf8.length, 0);
    }

    /** A per-thread buffer for keys of ASCII characters, which are their own UTF-8 bytes: no allocation per event. */
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[256]);

    /** Copies ASCII text into the buffer; returns the index after it, or -1 at the first other character. */
    private static int ascii(String text, byte[] into, int from) {
        int at = from;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                return -1;
            }
            into[at++] = (byte) c;
        }
        return at;
    }

    /**
     * @param aggregateType the aggregate's type name
     * @param aggregateId   its id
     * @param segments      the processor's segment count, 1 or more
     * @return the segment of the aggregate, from 0 to {@code segments - 1}
     */
    public static int segmentOf(String aggregateType, String aggregateId, int segments) {
        return (int) Long.remainderUnsigned(hash(aggregateType, aggregateId), segments);
    }
}
