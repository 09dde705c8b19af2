package io.gyre.routing.jgroups.internal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.protocols.FailureDetection;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;
import org.jspecify.annotations.Nullable;

/**
 * The one place that touches the JGroups channel: creates it from a protocol stack, connects, sends frames and hands
 * what arrives (frames and views) to a listener. Frames that JGroups delivers in a batch are handed over one after
 * another on the delivering thread, in order. Internal: not part of Gyre's API.
 */
public final class ClusterChannel implements AutoCloseable {

    /** What the channel delivers. Called on JGroups threads; must not block. */
    public interface Listener {

        /**
         * @param from   the sending member
         * @param buffer holds the frame
         * @param offset where it starts
         * @param length its length
         */
        void onFrame(Address from, byte[] buffer, int offset, int length);

        /** @param view the new view */
        void onView(View view);
    }

    private final JChannel channel;

    /**
     * @param channel  a channel, not connected yet
     * @param name     this member's logical name
     * @param listener receives frames and views
     */
    public ClusterChannel(JChannel channel, String name, Listener listener) {
        this.channel = Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(listener, "listener");
        channel.name(name);
        channel.setDiscardOwnMessages(true);
        channel.setReceiver(new Receiver() {
            @Override
            public void receive(Message message) {
                listener.onFrame(message.getSrc(), message.getArray(), message.getOffset(), message.getLength());
            }

            @Override
            public void receive(MessageBatch batch) {
                for (Message message : batch) {
                    listener.onFrame(message.getSrc(), message.getArray(), message.getOffset(), message.getLength());
                }
            }

            @Override
            public void viewAccepted(View view) {
                listener.onView(view);
            }
        });
    }

    /**
     * @param protocols the protocol stack, transport first
     * @param name      this member's logical name
     * @param listener  receives frames and views
     * @return the channel, not connected yet
     * @throws Exception when JGroups refuses the stack
     */
    public static ClusterChannel of(List<Protocol> protocols, String name, Listener listener) throws Exception {
        return new ClusterChannel(new JChannel(protocols), name, listener);
    }

    /**
     * @param stackFile a JGroups XML stack
     * @param name      this member's logical name
     * @param listener  receives frames and views
     * @return the channel, not connected yet
     * @throws Exception when JGroups cannot read the stack
     */
    public static ClusterChannel of(java.nio.file.Path stackFile, String name, Listener listener) throws Exception {
        return new ClusterChannel(new JChannel(stackFile.toString()), name, listener);
    }

    /**
     * @param cluster the cluster name
     * @throws Exception when joining fails
     */
    public void connect(String cluster) throws Exception {
        channel.connect(cluster);
    }

    /**
     * Sends a frame to one member; may block while the member does not read (flow control, a full socket).
     *
     * @param to    the member
     * @param frame the frame
     * @throws Exception when the channel is closed or the send fails
     */
    public void send(Address to, byte[] frame) throws Exception {
        channel.send(new BytesMessage(to, frame));
    }

    /**
     * Sends a short frame once to an address that need not be in this member's view, without waiting for it: past
     * flow control and past the reliable unicast layer, so it is never sent again. An address outside the view may
     * never acknowledge what it gets (a peer that is no member, or an address it made up), and a reliable send to it
     * would be retransmitted every retransmission interval for as long as the unicast layer keeps trying, each
     * address with a connection of its own: what this member sends would then grow with time, not with what it
     * received. When the transport's send queue is full the frame is dropped, and its receiver is left to its own
     * deadline. For answers given on the thread that received what they answer, which must not block. The default
     * stack's sends never block anyway (non-blocking sends); a stack file whose transport has neither a bundler nor
     * non-blocking sends writes on the calling thread, and may wait for the socket.
     *
     * @param to    the address
     * @param frame the frame
     * @throws Exception when the channel is closed or the send fails
     */
    public void sendOnceWithoutWaiting(Address to, byte[] frame) throws Exception {
        channel.send(new BytesMessage(to, frame).setFlag(Message.Flag.NO_FC, Message.Flag.NO_RELIABILITY)
                .setFlag(Message.TransientFlag.DONT_BLOCK));
    }

    /**
     * Sends a frame to every member.
     *
     * @param frame the frame
     * @throws Exception when the channel is closed or the send fails
     */
    public void broadcast(byte[] frame) throws Exception {
        channel.send(new BytesMessage(null, frame));
    }

    /** @return this member's address */
    public Address address() {
        return channel.getAddress();
    }

    /**
     * @param member a member of the view
     * @return its physical (transport) address, or null when the transport does not know it
     */
    public @Nullable Object physicalAddress(Address member) {
        return channel.down(new org.jgroups.Event(org.jgroups.Event.GET_PHYSICAL_ADDRESS, member));
    }

    /** @return the current view, or null before joining */
    public @Nullable View view() {
        return channel.getView();
    }

    /**
     * @param type a protocol class
     * @param <T>  the class
     * @return the protocol of that class in the stack, or null
     */
    public <T extends Protocol> @Nullable T protocol(Class<T> type) {
        return channel.getProtocolStack().findProtocol(type);
    }

    /**
     * How long this channel's stack lets a member stay silent before suspecting it: the timeout of its heartbeat
     * failure detection (FD_ALL3, or another of JGroups' {@link FailureDetection} protocols), as the stack has it,
     * whoever built the stack (the default one from {@code suspectAfter}, or a user's stack file).
     *
     * @return the timeout, or null when the stack has no heartbeat failure detection (FD_SOCK2 alone notices a
     *         closed connection, not a silent member)
     */
    public @Nullable Duration heartbeatTimeout() {
        FailureDetection detection = channel.getProtocolStack().findProtocol(FailureDetection.class);
        return detection == null ? null : Duration.ofMillis(detection.getTimeout());
    }

    /** @return how long this channel's stack verifies a suspicion before excluding the member; zero without */
    public Duration suspicionCheck() {
        VERIFY_SUSPECT2 verify2 = channel.getProtocolStack().findProtocol(VERIFY_SUSPECT2.class);
        if (verify2 != null) {
            return Duration.ofMillis(verify2.getTimeout());
        }
        VERIFY_SUSPECT verify = channel.getProtocolStack().findProtocol(VERIFY_SUSPECT.class);
        return verify == null ? Duration.ZERO : Duration.ofMillis(verify.getTimeout());
    }

    /**
     * Messages this member sent to the members of its current view that they have not acknowledged yet, as the
     * reliable unicast layer (UNICAST3) counts them: 0 once every such message has reached its member. A member that
     * left the view is not counted (its messages never will be acknowledged). 0 for a stack without UNICAST3.
     *
     * @return the count
     */
    public int unacknowledgedToMembers() {
        UNICAST3 unicast = channel.getProtocolStack().findProtocol(UNICAST3.class);
        View view = channel.getView();
        if (unicast == null || view == null) {
            return 0;
        }
        int unacknowledged = 0;
        for (Address member : view.getMembers()) {
            if (!member.equals(channel.getAddress())) {
                unacknowledged += unicast.getNumUnackedMessages(member);
            }
        }
        return unacknowledged;
    }

    /** Leaves the cluster and closes the channel. */
    public void disconnectAndClose() {
        channel.disconnect();
        channel.close();
    }

    /** Closes the channel without a goodbye, as a crash would. For tests. */
    public void crash() {
        try {
            org.jgroups.util.Util.shutdown(channel);
        } catch (Exception e) {
            throw new IllegalStateException("crashing the channel failed", e);
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
