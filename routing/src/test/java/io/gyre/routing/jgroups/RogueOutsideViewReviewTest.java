package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of the refusal of commands from outside the view: a peer outside node-b's view sends frames of small
 * commands; none runs, each is refused, and the bytes node-b sends back are measured against the bytes it was sent
 * (the refusals go without flow control, so their ratio is what a rogue can make a member send).
 */
class RogueOutsideViewReviewTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final HoldViews holdViewsOfB = new HoldViews();
    private RawPeer rogue;

    @BeforeEach
    void start() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b", bus -> bus.customizeStack(stack -> stack.add(holdViewsOfB))
                .suspectAfter(Duration.ofMinutes(2)));
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
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void frames_of_small_commands_from_outside_the_view_run_nothing_and_the_refusals_are_measured() throws Exception {
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        Address owner = cluster.bus("node-b").addressForTest();
        holdViewsOfB.hold();
        rogue = new RawPeer(cluster);
        await("node-b holds the view with the rogue", holdViewsOfB::holdsAView);
        String type = cluster.node("node-b").serializer().types().nameOf(Post.class);

        int frames = 20;
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
        long replyBytes = 0;
        Set<Long> refused = new HashSet<>();
        for (int i = 0; i < frames * perFrame; i++) {
            WireMessage.Reply reply = rogue.nextReply();
            assertThat(reply).as("refusal %s", i + 1).isNotNull();
            assertThat(ErrorCodec.decode(reply.error(), "node-b")).isInstanceOf(NotOwnerException.class);
            replyBytes += WireFormat.encode(reply).length;
            refused.add(reply.requestId());
        }
        assertThat(refused).hasSize(frames * perFrame);
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("nothing ran").isZero();
        System.out.printf("rogue sent %d commands in %d bytes; node-b answered with %d bytes of refusals (%.1fx)%n",
                frames * perFrame, sentBytes, replyBytes, (double) replyBytes / sentBytes);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
