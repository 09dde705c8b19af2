package io.gyre.routing.jgroups.internal;

import io.gyre.routing.MessageTooLargeException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jgroups.Address;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything this member sends to one other member, sent by a thread of its own, so that no caller, worker or
 * JGroups thread ever blocks on that member's socket: a member that stops reading fills only its own outbox, and
 * commands to it wait (or reach their deadline) while every other member is served as before.
 *
 * <p>Replies go out first and are never held back. Commands go out in the order they were queued, at most
 * {@code maxInFlight} unanswered at once: the rest wait here, in order, which bounds what one member can pile up
 * on another. Whatever is ready when the thread wakes travels in one frame (one JGroups message) of at most
 * {@code maxFrameBytes}, so under load many commands and replies share the cost of a message, and a lone one goes
 * at once.
 *
 * <p>Thread-safe. Internal: not part of Gyre's API.
 */
public final class MemberOutbox implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MemberOutbox.class);
    /** The most messages taken into one frame. */
    private static final int MAX_BATCH = 512;

    /** Sends a frame to a member; may block, on the outbox's own thread only. */
    @FunctionalInterface
    public interface Transport {
        /**
         * @param to    the member
         * @param frame the frame
         * @throws Exception when it could not be sent
         */
        void send(Address to, byte[] frame) throws Exception;
    }

    /** Something to send. */
    public interface Outgoing {

        /** @return true for a command, which holds a place until {@link #answered()} is called for it */
        boolean isCommand();

        /**
         * Called on the outbox's thread when its turn comes: builds the message, or gives up on it (its deadline
         * passed, its sender withdrew it) after telling its caller. A command that returns a message must have
         * arranged for {@link MemberOutbox#answered()} to be called once it ends.
         *
         * @return the message, or null to send nothing
         */
        @Nullable WireMessage prepare();

        /**
         * The prepared message could not be sent; nothing reached the member.
         *
         * @param why the reason, to complete the caller with
         */
        void notSent(RuntimeException why);
    }

    private final Address target;
    private final String memberName;
    private final Transport transport;
    private final int maxInFlight;
    private final int maxFrameBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final ArrayDeque<Outgoing> replies = new ArrayDeque<>();
    private final ArrayDeque<Outgoing> commands = new ArrayDeque<>();
    private final Thread sender;
    /** The frame being built, and what it holds; used on the sender thread only. */
    private final WireFormat.FrameBuilder frame = new WireFormat.FrameBuilder();
    private final List<Outgoing> framed = new ArrayList<>();
    private int inFlight;
    /** True while the sender thread writes what it took off the queues. */
    private boolean sending;
    private boolean closed;

    /**
     * @param target        the member's address
     * @param memberName    the member's name, for thread names and messages
     * @param transport     sends frames
     * @param maxInFlight   commands sent and not answered at once, 1 or more
     * @param maxFrameBytes the largest frame, and so the largest single message
     */
    public MemberOutbox(Address target, String memberName, Transport transport, int maxInFlight, int maxFrameBytes) {
        this.target = Objects.requireNonNull(target, "target");
        this.memberName = Objects.requireNonNull(memberName, "memberName");
        this.transport = Objects.requireNonNull(transport, "transport");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be 1 or more, but was " + maxInFlight);
        }
        this.maxInFlight = maxInFlight;
        this.maxFrameBytes = maxFrameBytes;
        this.sender = new Thread(this::run, "gyre-outbox-" + memberName);
        this.sender.setDaemon(true);
        this.sender.start();
    }

    /** @return the member this outbox sends to */
    public Address target() {
        return target;
    }

    /**
     * Queues a command or a reply; never blocks.
     *
     * @param item what to send
     * @return false when the outbox is closed (the member left); the item was not taken
     */
    public boolean offer(Outgoing item) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            (item.isCommand() ? commands : replies).add(item);
            ready.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs an action only while the outbox is open, atomically with {@link #close}: what the action records (a
     * command registered as pending) is recorded before the member's departure closes the outbox, so whoever
     * handles the departure after closing the outbox finds it; once closed, the action does not run.
     *
     * @param action what to do while open; must not block
     * @return false when the outbox is closed and the action did not run
     */
    public boolean whileOpen(Runnable action) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            action.run();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A command sent from here has ended (answered, failed, expired): its place is free. */
    public void answered() {
        lock.lock();
        try {
            inFlight--;
            if (!commands.isEmpty()) {
                ready.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return commands queued and not sent yet */
    public int waitingCommands() {
        lock.lock();
        try {
            return commands.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return true while replies are queued or a frame is being written: a member that leaves waits for this to turn
     *         false, so that the answers to commands it ran reach their senders instead of being dropped
     */
    public boolean sendingReplies() {
        lock.lock();
        try {
            return !closed && (!replies.isEmpty() || sending);
        } finally {
            lock.unlock();
        }
    }

    /** @return commands sent and not answered */
    public int inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        List<Outgoing> batch = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (!closed && replies.isEmpty() && (commands.isEmpty() || inFlight >= maxInFlight)) {
                    ready.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                while (!replies.isEmpty() && batch.size() < MAX_BATCH) {
                    batch.add(replies.poll());
                }
                while (!commands.isEmpty() && inFlight < maxInFlight && batch.size() < MAX_BATCH) {
                    batch.add(commands.poll());
                    inFlight++;
                }
                sending = true;
            } finally {
                lock.unlock();
            }
            try {
                send(batch);
            } finally {
                batch.clear();
                lock.lock();
                try {
                    sending = false;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Writes each message straight into the frame (on this outbox's thread only), with no copy per message. */
    private void send(List<Outgoing> batch) {
        for (Outgoing item : batch) {
            WireMessage message;
            int length;
            try {
                message = item.prepare();
                if (message == null) {
                    if (item.isCommand()) {
                        answered();
                    }
                    continue;
                }
                length = frame.append(message);
            } catch (RuntimeException e) {
                if (item.isCommand()) {
                    answered();
                }
                item.notSent(e);
                continue;
            }
            if (length + WireFormat.FRAME_OVERHEAD > maxFrameBytes) {
                frame.removeLast(length);
                item.notSent(new MessageTooLargeException("A message of " + length + " bytes for member "
                        + memberName + " is over the cluster's limit of " + maxFrameBytes + " bytes "
                        + "(maxMessageBytes)"));
                continue;
            }
            if (frame.length() > maxFrameBytes) {
                // Over the limit only together with the messages before it: they go first, it starts the next frame.
                frame.removeLast(length);
                flush();
                frame.append(message);
            }
            framed.add(item);
        }
        if (!framed.isEmpty()) {
            flush();
        }
    }

    private void flush() {
        try {
            transport.send(target, frame.finish());
        } catch (Exception e) {
            log.debug("Frame of {} messages to {} not sent: {}", framed.size(), memberName, e.toString());
            for (Outgoing item : framed) {
                item.notSent(new io.gyre.routing.MemberLeftException("Sending to member " + memberName
                        + " failed; the message did not leave this member: " + e));
            }
        }
        framed.clear();
    }

    /**
     * Stops the outbox: queued commands are handed to {@code notSent} (they never left), queued replies are
     * dropped (their member is gone). Idempotent.
     *
     * @param reason why, for the callers of the queued commands
     */
    public void close(Function<Outgoing, RuntimeException> reason) {
        List<Outgoing> unsent;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            unsent = new ArrayList<>(commands);
            commands.clear();
            replies.clear();
            ready.signalAll();
        } finally {
            lock.unlock();
        }
        for (Outgoing item : unsent) {
            item.notSent(reason.apply(item));
        }
    }

    @Override
    public void close() {
        close(item -> new io.gyre.routing.MemberLeftException("Member " + memberName + " is gone; the command did "
                + "not leave this member"));
    }

    @Override
    public String toString() {
        return "MemberOutbox[" + memberName + " at " + target + "]";
    }
}
