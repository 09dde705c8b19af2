package io.gyre.routing.jgroups.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.PhysicalAddress;
import org.jgroups.protocols.BARRIER;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.IpAddress;
import org.jgroups.stack.Protocol;
import org.jgroups.util.TLS;
import org.jspecify.annotations.Nullable;

/**
 * Gyre's default JGroups stack: TCP with TCPPING discovery, tuned for fast takeover. A killed process is noticed
 * at once through its closed sockets (FD_SOCK2) and confirmed within half a second (VERIFY_SUSPECT2): the
 * survivors install a view without it about 0.5 s after a kill -9. A hung one is found through missing
 * heartbeats (FD_ALL3, {@code suspectAfter}); split clusters merge again one to two seconds after the network
 * heals (MERGE3). Internal: not part of Gyre's API; configure it through the builder of
 * {@code JGroupsCommandBus}.
 */
public final class DefaultStack {

    private DefaultStack() {
    }

    /**
     * @param bindAddress      the address TCP listens on
     * @param bindPort         the first port TCP tries
     * @param portRange        how many ports above it TCP may try, and TCPPING probes per initial host
     * @param initialHosts     the members to contact first (address and base port)
     * @param suspectAfterMs   how long without heartbeats before a hung member is suspected
     * @param withDiscard      put DISCARD above the transport, for tests that cut the network
     * @return the protocols, transport first
     */
    public static List<Protocol> protocols(InetAddress bindAddress, int bindPort, int portRange,
                                           List<PhysicalAddress> initialHosts, long suspectAfterMs,
                                           boolean withDiscard) {
        return protocols(bindAddress, bindPort, portRange, initialHosts, suspectAfterMs, withDiscard, null,
                DEFAULT_MAX_FRAME_BYTES);
    }

    /** The largest frame the transport takes when nobody said otherwise: 8 MiB of message and room for headers. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024 + 64 * 1024;

    /**
     * @param bindAddress      the address TCP listens on
     * @param bindPort         the first port TCP tries
     * @param portRange        how many ports above it TCP may try, and TCPPING probes per initial host
     * @param initialHosts     the members to contact first (address and base port)
     * @param suspectAfterMs   how long without heartbeats before a hung member is suspected
     * @param withDiscard      put DISCARD above the transport, for tests that cut the network
     * @param tls              mutual TLS for every connection, or null for plain TCP
     * @param maxFrameBytes    the largest frame the transport reads: a longer one closes its connection before
     *                         anything is allocated for it
     * @return the protocols, transport first
     */
    public static List<Protocol> protocols(InetAddress bindAddress, int bindPort, int portRange,
                                           List<PhysicalAddress> initialHosts, long suspectAfterMs,
                                           boolean withDiscard, @Nullable TLS tls, int maxFrameBytes) {
        List<PhysicalAddress> probed = new ArrayList<>();
        for (PhysicalAddress host : initialHosts) {
            IpAddress base = (IpAddress) host;
            // TCPPING applies port_range only to hosts given as a string, so each range is expanded here.
            for (int i = 0; i <= portRange; i++) {
                probed.add(new IpAddress(base.getIpAddress(), base.getPort() + i));
            }
        }
        List<Protocol> stack = new ArrayList<>();
        TCP tcp = new TCP();
        tcp.setBindAddr(bindAddress);
        tcp.setBindPort(bindPort);
        tcp.setPortRange(portRange);
        tcp.setSockConnTimeout(300);
        tcp.tcpNodelay(true);
        // Commands are request/reply: sending on the caller's thread beat bundling on both latency and
        // throughput in the cluster benchmark (remote p50 0.31 ms against 0.59 ms with the default bundler).
        tcp.setBundlerType("no-bundler");
        // Without a bundler every thread that sends writes to the socket itself: JGroups' timer (retransmissions,
        // heartbeats, stability gossip) and a view's or Gyre's broadcasts as well as the outboxes. A member that
        // stops reading would then block them on its full connection (issue 10), and a timer stuck there stops the
        // retransmissions to every member. With non-blocking sends each connection has a writer thread and a bounded
        // queue; a send to a full queue is dropped and retransmitted by UNICAST3/NAKACK2, and UFC still bounds what
        // an outbox can put in flight to a member that does not read (StuckPeerThreadsReviewTest).
        tcp.nonBlockingSends(true).maxSendQueue(1024);
        tcp.logDiscardMsgs(false);
        // Gyre's receiver never blocks (it queues commands on the local bus and completes replies on its own
        // executor), so messages are passed up on the thread that read them, saving a hand-off per message.
        tcp.setMessageProcessingPolicy("direct");
        // A frame's length is read before its bytes: one over the limit closes the connection before anything is
        // allocated, so a peer claiming a 2 GiB message costs nothing. Without FRAG4 below (TCP needs no
        // fragmentation) this bounds every message, not only its fragments.
        tcp.setMaxLength(maxFrameBytes);
        if (tls != null) {
            tcp.tls(tls);
        } else {
            // Each wait for a frame is then one read instead of read, poll, read (see ChannelSockets): measured at
            // one read per frame instead of about 1.5 and no poll, and less CPU per routed command.
            tcp.setSocketFactory(ChannelSockets.forJGroups());
        }
        stack.add(tcp);
        if (withDiscard) {
            stack.add(new DISCARD());
        }
        stack.add(new TCPPING().setInitialHosts2(probed));
        stack.add(new MERGE3().setMinInterval(500).setMaxInterval(1500).setCheckInterval(2000));
        stack.add(new FD_SOCK2().setBindAddress(bindAddress));
        stack.add(new FD_ALL3().setTimeout(suspectAfterMs).setInterval(Math.max(100, suspectAfterMs / 3)));
        stack.add(new VERIFY_SUSPECT2().setTimeout(500));
        stack.add(new BARRIER());
        stack.add(new NAKACK2().useMcastXmit(false).setXmitInterval(500).logDiscardMessages(false));
        stack.add(new UNICAST3().setXmitInterval(500));
        stack.add(new STABLE().setDesiredAverageGossip(5000).setMaxBytes(4_000_000));
        stack.add(new GMS().setJoinTimeout(1000).setLeaveTimeout(1000).setViewAckCollectionTimeout(500)
                .setMaxJoinAttempts(10).printLocalAddress(false));
        stack.add(new UFC().setMaxCredits(10_000_000).setMinThreshold(0.4));
        stack.add(new MFC().setMaxCredits(10_000_000).setMinThreshold(0.4));
        return stack;
    }
}
