package io.gyre.routing.jgroups.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.jgroups.Address;

/**
 * How many bytes a member reads from addresses outside its view before it drops their frames unread: a token bucket
 * per sender, and one for all of them together. A member answers the commands of such a sender (a newcomer whose
 * view arrived first) with a refusal, so that they are re-sent once the view has settled; past this budget it does
 * not even read them (and remembers their sender, {@link UnansweredOutsiders}, to tell it once the view holds it, so
 * that a real newcomer crowded out by other outsiders sends them again then). A newcomer sends to a member outside its
 * view only during the moment between the two views, far below {@link #SENDER_BURST_BYTES}; a peer that keeps sending
 * from outside the view is no member, and the budget bounds what it costs to read and answer it.
 *
 * <p>A frame is admitted while both buckets hold any bytes at all, and then charged in full, so a bucket can go into
 * debt by one frame: a frame larger than the burst (up to {@code maxMessageBytes}) is never refused for its size
 * alone, and what one sender gets read over any period is at most its burst, plus its rate times the period, plus one
 * frame. Buckets are kept for at most {@link #MAX_SENDERS} senders, the least recently heard from evicted first: a
 * peer can make up addresses, so per-sender state must not grow with them, and an evicted sender (or a made-up one)
 * starts again with a full burst of its own; the shared bucket is what bounds a peer that changes address. Thread-safe:
 * frames arrive on several JGroups threads, and outside the view they are rare enough that one lock is cheap.
 * Internal: not part of Gyre's API.
 */
public final class OutsiderBudget {

    /** The bytes per second one sender outside the view gets read, once its burst is spent: 64 KiB. */
    public static final long SENDER_BYTES_PER_SECOND = 64 * 1024;
    /** The bytes one sender outside the view gets read at once, from a full bucket: 512 KiB. */
    public static final long SENDER_BURST_BYTES = 512 * 1024;
    /** The bytes per second all senders outside the view together get read, once their burst is spent: 256 KiB. */
    public static final long ALL_BYTES_PER_SECOND = 256 * 1024;
    /** The bytes all senders outside the view together get read at once, from a full bucket: 2 MiB. */
    public static final long ALL_BURST_BYTES = 2 * 1024 * 1024;
    /** The most senders outside the view whose bucket is kept. */
    public static final int MAX_SENDERS = 1024;

    private final LongSupplier nanoTime;
    private final Bucket all;
    private final Map<Address, Bucket> senders = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Address, Bucket> eldest) {
            return size() > MAX_SENDERS;
        }
    };

    /** A budget on the system's monotonic clock. */
    public OutsiderBudget() {
        this(System::nanoTime);
    }

    /** @param nanoTime a monotonic clock in nanoseconds */
    public OutsiderBudget(LongSupplier nanoTime) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.all = new Bucket(ALL_BYTES_PER_SECOND, ALL_BURST_BYTES, nanoTime.getAsLong());
    }

    /**
     * Charges a frame to its sender's bucket and to the shared one, if both hold bytes; else charges nothing.
     *
     * @param from   the sender, outside the view
     * @param length the frame's length in bytes
     * @return true when the frame may be read, false when it must be dropped unread
     */
    public synchronized boolean admit(Address from, int length) {
        long now = nanoTime.getAsLong();
        Bucket sender = senders.get(from);
        if (sender == null) {
            sender = new Bucket(SENDER_BYTES_PER_SECOND, SENDER_BURST_BYTES, now);
            senders.put(from, sender);
        }
        sender.refill(now);
        all.refill(now);
        if (sender.tokens <= 0 || all.tokens <= 0) {
            return false;
        }
        sender.tokens -= length;
        all.tokens -= length;
        return true;
    }

    /** @return how many senders' buckets are kept */
    public synchronized int senders() {
        return senders.size();
    }

    /** Bytes that refill at a rate up to a burst; tokens below zero are a debt of at most one frame. */
    private static final class Bucket {

        private final double bytesPerNano;
        private final long burst;
        private long tokens;
        private long refilledAt;

        Bucket(long bytesPerSecond, long burst, long now) {
            this.bytesPerNano = bytesPerSecond / 1e9;
            this.burst = burst;
            this.tokens = burst;
            this.refilledAt = now;
        }

        void refill(long now) {
            long elapsed = now - refilledAt;
            if (elapsed <= 0) {
                return;
            }
            double earned = elapsed * bytesPerNano;
            if (earned >= burst - tokens) {
                tokens = burst;
                refilledAt = now;
                return;
            }
            // Whole bytes only, keeping the remainder's time: frequent small refills must not round the rate away.
            long whole = (long) earned;
            tokens += whole;
            refilledAt += (long) (whole / bytesPerNano);
        }
    }
}
