package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review: a peer outside a member's view that never acknowledges what it receives must not make the member send its
 * refusals again and again. Refusals went through the member's reliable unicast layer, which retransmits every
 * unacknowledged message every 500 ms until the peer acknowledges it or is given up on, so what a member sent to
 * such a peer grew with time, past the bytes it read from it.
 */
class RefusalRetransmissionReviewTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final HoldViews holdViewsOfB = new HoldViews();
    private final RefusalsSent sentByB = new RefusalsSent();
    private RawPeer rogue;

    @BeforeEach
    void start() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b", bus -> bus.customizeStack(stack -> {
            stack.add(1, sentByB);
            stack.add(holdViewsOfB);
        }).suspectAfter(Duration.ofMinutes(2)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        holdViewsOfB.release();
        if (rogue != null) {
            rogue.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void a_peer_outside_the_view_that_never_acknowledges_gets_each_refusal_once() throws Exception {
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        JGroupsCommandBus nodeB = cluster.bus("node-b");
        Address owner = nodeB.addressForTest();
        holdViewsOfB.hold();
        // The rogue drops everything node-b sends it, acknowledgements' cause included, before its own stack sees it.
        rogue = new RawPeer(cluster, new DropFrom(owner));
        await("node-b holds the view with the rogue", holdViewsOfB::holdsAView);
        sentByB.watch(rogue.addressForTest());
        String type = cluster.node("node-b").serializer().types().nameOf(Post.class);

        // Well within the rogue's burst: every frame is read, every command refused.
        int frames = 4;
        int perFrame = 500;
        long sentBytes = 0;
        long requestId = 0;
        for (int f = 0; f < frames; f++) {
            List<WireMessage.CommandRequest> batch = new ArrayList<>();
            for (int i = 0; i < perFrame; i++) {
                requestId++;
                batch.add(new WireMessage.CommandRequest(requestId, 0, "L", "c" + requestId, 1, false,
                        TimeUnit.SECONDS.toNanos(30), type, ledger, "{}", "{}"));
            }
            byte[] frame = WireFormat.encode(batch);
            sentBytes += frame.length;
            rogue.sendRaw(owner, frame);
        }
        await("node-b read every frame", () -> nodeB.distrust().refusedFromOutsideView() == (long) frames * perFrame);
        await("node-b sent its refusals", () -> sentByB.frames.get() >= frames);
        long firstSend = sentByB.bytes.get();

        // Retransmissions come every 500 ms: three seconds hold several, if there are any (measured, not awaited).
        Thread.sleep(3_000);
        System.out.printf("rogue sent %d bytes of commands; node-b sent %d refusal frames, %d bytes (first sending "
                + "%d bytes) within 3 s%n", sentBytes, sentByB.frames.get(), sentByB.bytes.get(), firstSend);
        assertThat(sentByB.frames.get()).as("refusal frames node-b sent the rogue: one per frame read, never again")
                .isEqualTo(frames);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }

    /** Counts the refusal frames (and their bytes) a member's transport is given for one address. */
    static final class RefusalsSent extends Protocol {

        final AtomicLong frames = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        private volatile Address watched;

        void watch(Address address) {
            watched = address;
        }

        @Override
        public Object down(Message message) {
            if (message.getDest() != null && message.getDest().equals(watched) && isRefusal(message)) {
                frames.incrementAndGet();
                bytes.addAndGet(message.getLength());
            }
            return down_prot.down(message);
        }

        private static boolean isRefusal(Message message) {
            if (!message.hasArray() || message.getLength() < 6) {
                return false;
            }
            try {
                return WireFormat.decode(message.getArray(), message.getOffset(), message.getLength()).stream()
                        .allMatch(decoded -> decoded.message() instanceof WireMessage.OutsideViewRefusal);
            } catch (RuntimeException e) {
                return false;
            }
        }
    }

    /** Drops every message from one address before the rest of the stack sees it. */
    static final class DropFrom extends Protocol {

        private final Address from;

        DropFrom(Address from) {
            this.from = from;
        }

        @Override
        public Object up(Message message) {
            return from.equals(message.getSrc()) ? null : up_prot.up(message);
        }

        @Override
        public void up(MessageBatch batch) {
            if (!from.equals(batch.sender())) {
                up_prot.up(batch);
            }
        }
    }
}
