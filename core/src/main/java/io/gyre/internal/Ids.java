package io.gyre.internal;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Generates command and event ids: version 7 UUIDs (RFC 9562), time-ordered so that database indexes on them
 * stay compact, with 74 random bits from a per-thread generator instead of the contended
 * {@code SecureRandom} behind {@link UUID#randomUUID()}. Ids need to be unique, not unguessable.
 * Internal: not part of Gyre's API.
 */
public final class Ids {

    private Ids() {
    }

    /** @return a new unique id in the canonical 36-character UUID form */
    public static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long millis = System.currentTimeMillis();
        long high = (millis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low).toString();
    }
}
