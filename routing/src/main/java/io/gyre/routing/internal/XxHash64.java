package io.gyre.routing.internal;

/**
 * xxHash64 (XXH64) by Yann Collet, implemented from the published specification so that routing depends on no
 * hashing library: the ring's placement must never change because a dependency was upgraded.
 *
 * <p>{@link #hashUtf8(CharSequence, long)} hashes the UTF-8 encoding of a character sequence without building a
 * {@code byte[]}: characters are encoded one at a time and fed straight into the XXH64 state. Its result equals
 * {@code hash(s.toString().getBytes(StandardCharsets.UTF_8), seed)}, unpaired surrogates included (they encode as
 * {@code '?'}, exactly as {@link String#getBytes(java.nio.charset.Charset)} replaces them).
 */
public final class XxHash64 {

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private static final int STRIPE = 32;

    private XxHash64() {
    }

    /**
     * Hashes {@code length} bytes of {@code data} from {@code offset}.
     *
     * @param data   the bytes
     * @param offset first byte to hash
     * @param length number of bytes to hash
     * @param seed   the seed
     * @return the XXH64 value
     * @throws IndexOutOfBoundsException if the slice is outside {@code data}
     */
    public static long hash(byte[] data, int offset, int length, long seed) {
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        int p = offset;
        int end = offset + length;
        long h;
        if (length >= STRIPE) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            int limit = end - STRIPE;
            do {
                v1 = round(v1, readLong(data, p));
                v2 = round(v2, readLong(data, p + 8));
                v3 = round(v3, readLong(data, p + 16));
                v4 = round(v4, readLong(data, p + 24));
                p += STRIPE;
            } while (p <= limit);
            h = mergeAccumulators(v1, v2, v3, v4);
        } else {
            h = seed + P5;
        }
        h += length;
        while (p + 8 <= end) {
            h = mixWord(h, readLong(data, p));
            p += 8;
        }
        if (p + 4 <= end) {
            h = mixInt(h, readInt(data, p) & 0xFFFF_FFFFL);
            p += 4;
        }
        while (p < end) {
            h = mixByte(h, data[p] & 0xFFL);
            p++;
        }
        return avalanche(h);
    }

    /**
     * Hashes the UTF-8 encoding of {@code text} without allocating.
     *
     * @param text the characters; unpaired surrogates are hashed as {@code '?'}
     * @param seed the seed
     * @return the XXH64 value of the UTF-8 bytes
     */
    public static long hashUtf8(CharSequence text, long seed) {
        long v1 = seed + P1 + P2;
        long v2 = seed + P2;
        long v3 = seed;
        long v4 = seed - P1;
        // Up to three finished 8-byte words wait here until a fourth completes a 32-byte stripe: XXH64 only
        // folds a stripe into the accumulators once it is known to be whole.
        long w0 = 0;
        long w1 = 0;
        long w2 = 0;
        int pendingWords = 0;
        long word = 0;
        int wordBits = 0;
        long total = 0;

        int length = text.length();
        int i = 0;
        while (i < length) {
            long completed;
            if (wordBits == 0 && i + 8 <= length && isAscii8(text, i)) {
                // Most routing keys are ASCII: eight characters are one word, with no encoding step.
                completed = text.charAt(i) | (long) text.charAt(i + 1) << 8 | (long) text.charAt(i + 2) << 16
                        | (long) text.charAt(i + 3) << 24 | (long) text.charAt(i + 4) << 32
                        | (long) text.charAt(i + 5) << 40 | (long) text.charAt(i + 6) << 48
                        | (long) text.charAt(i + 7) << 56;
                i += 8;
                total += 8;
            } else {
                char c = text.charAt(i++);
                long bytes;
                int count;
                if (c < 0x80) {
                    bytes = c;
                    count = 1;
                } else if (c < 0x800) {
                    bytes = (0xC0 | (c >>> 6)) | (long) (0x80 | (c & 0x3F)) << 8;
                    count = 2;
                } else if (!Character.isSurrogate(c)) {
                    bytes = (0xE0 | (c >>> 12)) | (long) (0x80 | ((c >>> 6) & 0x3F)) << 8
                            | (long) (0x80 | (c & 0x3F)) << 16;
                    count = 3;
                } else if (Character.isHighSurrogate(c) && i < length && Character.isLowSurrogate(text.charAt(i))) {
                    int cp = Character.toCodePoint(c, text.charAt(i++));
                    bytes = (0xF0 | (cp >>> 18)) | (long) (0x80 | ((cp >>> 12) & 0x3F)) << 8
                            | (long) (0x80 | ((cp >>> 6) & 0x3F)) << 16 | (long) (0x80 | (cp & 0x3F)) << 24;
                    count = 4;
                } else {
                    bytes = '?';
                    count = 1;
                }
                total += count;
                word |= bytes << wordBits;
                int filled = wordBits + (count << 3);
                if (filled < 64) {
                    wordBits = filled;
                    continue;
                }
                completed = word;
                wordBits = filled - 64;
                // The bytes of this character that did not fit start the next word.
                word = wordBits == 0 ? 0 : bytes >>> ((count << 3) - wordBits);
            }
            switch (pendingWords) {
                case 0 -> w0 = completed;
                case 1 -> w1 = completed;
                case 2 -> w2 = completed;
                default -> {
                    v1 = round(v1, w0);
                    v2 = round(v2, w1);
                    v3 = round(v3, w2);
                    v4 = round(v4, completed);
                }
            }
            pendingWords = (pendingWords + 1) & 3;
        }

        long h = total >= STRIPE ? mergeAccumulators(v1, v2, v3, v4) : seed + P5;
        h += total;
        if (pendingWords > 0) {
            h = mixWord(h, w0);
        }
        if (pendingWords > 1) {
            h = mixWord(h, w1);
        }
        if (pendingWords > 2) {
            h = mixWord(h, w2);
        }
        int remaining = wordBits >>> 3;
        if (remaining >= 4) {
            h = mixInt(h, word & 0xFFFF_FFFFL);
            word >>>= 32;
            remaining -= 4;
        }
        for (; remaining > 0; remaining--) {
            h = mixByte(h, word & 0xFFL);
            word >>>= 8;
        }
        return avalanche(h);
    }

    private static boolean isAscii8(CharSequence text, int i) {
        return (text.charAt(i) | text.charAt(i + 1) | text.charAt(i + 2) | text.charAt(i + 3) | text.charAt(i + 4)
                | text.charAt(i + 5) | text.charAt(i + 6) | text.charAt(i + 7)) < 0x80;
    }

    private static long round(long acc, long input) {
        return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    private static long mergeAccumulators(long v1, long v2, long v3, long v4) {
        long h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
        h = mergeRound(h, v1);
        h = mergeRound(h, v2);
        h = mergeRound(h, v3);
        return mergeRound(h, v4);
    }

    private static long mergeRound(long acc, long v) {
        return (acc ^ round(0, v)) * P1 + P4;
    }

    private static long mixWord(long h, long word) {
        return Long.rotateLeft(h ^ round(0, word), 27) * P1 + P4;
    }

    private static long mixInt(long h, long unsignedInt) {
        return Long.rotateLeft(h ^ unsignedInt * P1, 23) * P2 + P3;
    }

    private static long mixByte(long h, long unsignedByte) {
        return Long.rotateLeft(h ^ unsignedByte * P5, 11) * P1;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ (h >>> 32);
    }

    private static long readLong(byte[] b, int p) {
        return (b[p] & 0xFFL) | (b[p + 1] & 0xFFL) << 8 | (b[p + 2] & 0xFFL) << 16 | (b[p + 3] & 0xFFL) << 24
                | (b[p + 4] & 0xFFL) << 32 | (b[p + 5] & 0xFFL) << 40 | (b[p + 6] & 0xFFL) << 48
                | (b[p + 7] & 0xFFL) << 56;
    }

    private static int readInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }
}
