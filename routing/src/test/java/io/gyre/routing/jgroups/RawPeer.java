package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.routing.jgroups.internal.DefaultStack;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.stack.IpAddress;
import org.jgroups.stack.Protocol;
import org.jspecify.annotations.Nullable;

/**
 * A bare JGroups channel in a test cluster that speaks Gyre's wire format but is no Gyre node: it sends whatever
 * a test tells it to, and keeps the replies it gets.
 */
final class RawPeer implements AutoCloseable {

    private final JChannel channel;
    private final BlockingQueue<WireMessage.Reply> replies = new LinkedBlockingQueue<>();
    private final BlockingQueue<WireMessage.OutsideViewRefusal> refusals = new LinkedBlockingQueue<>();
    private final AtomicInteger commands = new AtomicInteger();
    private volatile @Nullable Function<WireMessage.CommandRequest, WireMessage.WireError> answer;

    RawPeer(TestCluster cluster) throws Exception {
        this(cluster, null);
    }

    /**
     * @param cluster          the cluster to join
     * @param aboveTransport   a protocol to put right above the transport (a fault), or null
     */
    RawPeer(TestCluster cluster, @Nullable Protocol aboveTransport) throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<Protocol> stack = new ArrayList<>(DefaultStack.protocols(loopback, cluster.basePort(),
                cluster.portRange(), List.of(new IpAddress(loopback, cluster.basePort())), 60_000, false));
        if (aboveTransport != null) {
            stack.add(1, aboveTransport);
        }
        channel = new JChannel(stack);
        channel.setReceiver(new Receiver() {
            @Override
            public void receive(Message message) {
                for (WireFormat.Decoded decoded : WireFormat.decode(message.getArray(), message.getOffset(),
                        message.getLength())) {
                    if (decoded.message() instanceof WireMessage.Reply reply) {
                        replies.add(reply);
                    } else if (decoded.message() instanceof WireMessage.OutsideViewRefusal refusal) {
                        refusals.add(refusal);
                    } else if (decoded.message() instanceof WireMessage.CommandRequest request) {
                        answer(message.getSrc(), request);
                    }
                }
            }
        });
        channel.connect(cluster.name());
    }

    /**
     * @param to      a member, or null for everyone
     * @param message what to send, in a frame of its own
     */
    void send(@Nullable Address to, WireMessage message) throws Exception {
        channel.send(new BytesMessage(to, WireFormat.encode(message)));
    }

    /** @param to a member @param frame bytes to send as they are */
    /**
     * Advertises until the member's bus has this peer on its ring: a member drops what a peer sends before its own
     * view holds the peer, and a raw peer does not advertise again on view changes as a member would.
     *
     * @param member        the bus that must take the advertisement in
     * @param advertisement this peer's advertisement
     * @throws Exception when sending fails, or the peer is not on the ring within 30 s (an assertion error)
     */
    void advertiseUntilOnRing(JGroupsCommandBus member, WireMessage.Advertisement advertisement) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!member.members().contains(advertisement.memberId())) {
            assertThat(System.nanoTime() < deadline)
                    .as("%s on the member's ring", advertisement.memberId()).isTrue();
            send(null, advertisement);
            Thread.sleep(200);
        }
    }

    void sendRaw(Address to, byte[] frame) throws Exception {
        channel.send(new BytesMessage(to, frame));
    }

    /**
     * From now on answers every command sent to this peer with an error, as an owner would.
     *
     * @param answer the error for a command
     */
    void answerCommandsWith(Function<WireMessage.CommandRequest, WireMessage.WireError> answer) {
        this.answer = answer;
    }

    /** @return how many commands were sent to this peer */
    int commandsReceived() {
        return commands.get();
    }

    private void answer(Address from, WireMessage.CommandRequest request) {
        commands.incrementAndGet();
        Function<WireMessage.CommandRequest, WireMessage.WireError> errors = answer;
        if (errors != null) {
            try {
                send(from, new WireMessage.Reply(request.requestId(), null, errors.apply(request)));
            } catch (Exception e) {
                throw new IllegalStateException("the peer could not answer " + request, e);
            }
        }
    }

    /** @return the next reply, or null when none comes within 10 s */
    WireMessage.@Nullable Reply nextReply() throws InterruptedException {
        return replies.poll(10, TimeUnit.SECONDS);
    }

    /** @return how many replies arrived that no {@link #nextReply()} took yet */
    int repliesWaiting() {
        return replies.size();
    }

    /** @return the next refusal of commands sent from outside the member's view, or null when none comes within 10 s */
    WireMessage.@Nullable OutsideViewRefusal nextRefusal() throws InterruptedException {
        return refusals.poll(10, TimeUnit.SECONDS);
    }

    /** @return this peer's address */
    Address addressForTest() {
        return channel.getAddress();
    }

    @Override
    public void close() {
        channel.close();
    }
}
