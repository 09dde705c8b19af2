package io.gyre.examples.bench;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The classic consistent-hash ring, as a baseline: 100 points per member at the MD5 hex of {@code "memberId-i"},
 * in a {@code TreeMap} of strings, and a lookup that hashes the key to an MD5 hex string and takes the ceiling
 * entry. Written the way such rings usually are (a fresh {@link MessageDigest} per hash), to measure what Gyre's
 * ring replaces.
 */
final class Md5Ring {

    private static final int POINTS_PER_MEMBER = 100;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final TreeMap<String, String> points = new TreeMap<>();

    Md5Ring(Collection<String> memberIds) {
        for (String id : memberIds) {
            for (int i = 0; i < POINTS_PER_MEMBER; i++) {
                points.put(md5Hex(id + "-" + i), id);
            }
        }
    }

    /** The owner: the member of the first point at or after the key's MD5, wrapping around. */
    String owner(String key) {
        Map.Entry<String, String> e = points.ceilingEntry(md5Hex(key));
        return (e != null ? e : points.firstEntry()).getValue();
    }

    /**
     * The exact share of each member: the arcs ending at its points, measured on the top 64 of the 128 bits (hex
     * strings of equal length sort like the numbers they spell).
     */
    Map<String, Double> ownership() {
        Map<String, Double> shares = new LinkedHashMap<>();
        long previous = top64(points.lastKey());
        for (Map.Entry<String, String> e : points.entrySet()) {
            long position = top64(e.getKey());
            double arc = unsigned(position - previous) / 0x1p64;
            shares.merge(e.getValue(), arc, Double::sum);
            previous = position;
        }
        return shares;
    }

    private static long top64(String hex) {
        return Long.parseUnsignedLong(hex.substring(0, 16), 16);
    }

    private static double unsigned(long v) {
        return (double) (v >>> 1) * 2.0 + (v & 1);
    }

    static String md5Hex(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
            char[] hex = new char[digest.length * 2];
            for (int i = 0; i < digest.length; i++) {
                hex[2 * i] = HEX[(digest[i] >> 4) & 0xF];
                hex[2 * i + 1] = HEX[digest[i] & 0xF];
            }
            return new String(hex);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides MD5", e);
        }
    }
}
