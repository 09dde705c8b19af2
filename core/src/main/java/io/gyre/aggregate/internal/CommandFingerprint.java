package io.gyre.aggregate.internal;

import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.UnregisteredTypeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fingerprint a decision is stored with ({@link io.gyre.eventstore.AppendRequest#fingerprint()}): SHA-256 over
 * the command's registered type name and its JSON as the node's serializer writes it, so that a command id reused
 * for a different command is told apart from a re-delivery of the same one. Internal: not part of Gyre's API.
 *
 * <p>Why these bytes: the JSON is what crosses the cluster and what a re-delivery carries, so two deliveries of one
 * command write the same text on any node of the same version; the type name keeps two command types with equal
 * fields apart. A cryptographic digest is used, rather than a faster 64-bit hash, because a collision here would
 * hand one caller another command's outcome, and SHA-256 over a few hundred bytes costs about a microsecond.
 *
 * <p>Honest limits: a command re-delivered by a node whose serializer writes it differently (a field added to the
 * command class during a rolling upgrade, a mapper configured otherwise) has another fingerprint and is refused as a
 * reused id. A command the serializer cannot write (possible only on a single node, since such a command cannot
 * cross the cluster either) gets no fingerprint: its id is then never compared, exactly as before fingerprints.
 */
final class CommandFingerprint {

    private static final Logger log = LoggerFactory.getLogger(CommandFingerprint.class);
    private static final String PREFIX = "sha256:";
    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /**
     * A digest and scratch bytes per thread: {@code MessageDigest} is not thread-safe, and looking one up per command
     * costs more; the scratch bytes take the text to hash and the fingerprint's characters, which would otherwise be
     * three arrays per command (each string's UTF-8 copy and the hexadecimal text).
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Classes already reported as impossible to fingerprint, so the warning comes once per class. */
    private static final ClassValue<AtomicBoolean> WARNED = new ClassValue<>() {
        @Override
        protected AtomicBoolean computeValue(Class<?> type) {
            return new AtomicBoolean();
        }
    };

    private CommandFingerprint() {
    }

    /**
     * @param serializer the node's serializer
     * @param command    the command object
     * @return its fingerprint, {@code "sha256:"} and 64 hexadecimal digits, or null when the serializer cannot write
     *         the command
     */
    static @Nullable String of(Serializer serializer, Object command) {
        SerializedValue serialized;
        try {
            serialized = serializer.serialize(command);
        } catch (SerializationException | UnregisteredTypeException e) {
            warnOnce(command.getClass(), e);
            return null;
        }
        Scratch scratch = SCRATCH.get();
        MessageDigest digest = scratch.digest;
        scratch.update(serialized.type());
        digest.update((byte) 0); // no type name contains NUL, so name and JSON cannot shift into each other
        scratch.update(serialized.data());
        return scratch.fingerprint();
    }

    /** One thread's digest and bytes. */
    private static final class Scratch {

        /** Longer texts are hashed through a copy of their own, so that one big command pins no buffer. */
        private static final int KEPT_BYTES = 8 * 1024;

        final MessageDigest digest = sha256();
        final byte[] bytes = new byte[KEPT_BYTES];
        final byte[] hash = new byte[32];

        /** Hashes a text's UTF-8 bytes; ASCII, the usual case, goes through the scratch bytes without a copy. */
        void update(String text) {
            int length = text.length();
            if (length <= bytes.length) {
                boolean ascii = true;
                for (int i = 0; i < length; i++) {
                    char c = text.charAt(i);
                    if (c >= 0x80) {
                        ascii = false;
                        break;
                    }
                    bytes[i] = (byte) c;
                }
                if (ascii) {
                    digest.update(bytes, 0, length);
                    return;
                }
            }
            digest.update(text.getBytes(StandardCharsets.UTF_8));
        }

        /** @return the digest so far as {@code "sha256:"} and 64 hexadecimal digits; the digest is reset */
        String fingerprint() {
            try {
                digest.digest(hash, 0, hash.length);
            } catch (java.security.DigestException e) {
                throw new IllegalStateException("SHA-256 gives 32 bytes", e);
            }
            int at = PREFIX.length();
            for (int i = 0; i < at; i++) {
                bytes[i] = (byte) PREFIX.charAt(i);
            }
            for (byte b : hash) {
                bytes[at++] = HEX_DIGITS[(b >> 4) & 0xf];
                bytes[at++] = HEX_DIGITS[b & 0xf];
            }
            return new String(bytes, 0, at, StandardCharsets.US_ASCII);
        }
    }

    private static void warnOnce(Class<?> type, RuntimeException e) {
        if (WARNED.get(type).compareAndSet(false, true)) {
            log.warn("Commands of {} cannot be serialized, so they are stored without a fingerprint and a reused "
                    + "command id cannot be told from a re-delivery: {}", type.getName(), e.getMessage());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime must provide SHA-256", e);
        }
    }
}
