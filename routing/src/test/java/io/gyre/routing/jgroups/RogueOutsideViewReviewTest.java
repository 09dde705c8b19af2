package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.jgroups.internal.OutsiderBudget;
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
 * Review of the refusal of commands from outside the view: a peer outside node-b's view floods it with frames of small
 * commands. None runs; node-b answers what it reads with compact refusals, never more bytes than it read (the refusals
 * go without flow control, so their size is what a rogue could make a member send), and reads no more than the
 * sender's budget: the rest is dropped unread and counted.
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
    void a_flood_of_small_commands_from_outside_the_view_runs_nothing_gets_fewer_bytes_back_and_is_dropped_past_its_budget()
            throws Exception {
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        JGroupsCommandBus nodeB = cluster.bus("node-b");
        Address owner = nodeB.addressForTest();
        holdViewsOfB.hold();
        rogue = new RawPeer(cluster);
        await("node-b holds the view with the rogue", holdViewsOfB::holdsAView);
        String type = cluster.node("node-b").serializer().types().nameOf(Post.class);

        // About 3.6 MB, seven times the sender's burst: past it, only its rate (64 KiB/s) is read.
        int frames = 80;
        int perFrame = 500;
        long sentBytes = 0;
        List<Integer> frameBytes = new ArrayList<>();
        Set<Long> sent = new HashSet<>();
        long requestId = 0;
        long started = System.nanoTime();
        for (int f = 0; f < frames; f++) {
            List<WireMessage.CommandRequest> batch = new ArrayList<>();
            for (int i = 0; i < perFrame; i++) {
                requestId++;
                sent.add(requestId);
                batch.add(new WireMessage.CommandRequest(requestId, 0, "L", "c" + requestId, 1, false,
                        TimeUnit.SECONDS.toNanos(30), type, ledger, "{}", "{}"));
            }
            byte[] frame = WireFormat.encode(batch);
            sentBytes += frame.length;
            frameBytes.add(frame.length);
            rogue.sendRaw(owner, frame);
        }
        await("node-b received every frame", () -> nodeB.distrust().fromOutsideView() == frames);
        double seconds = (System.nanoTime() - started) / 1e9;
        JGroupsCommandBus.Distrust distrust = nodeB.distrust();

        long replyBytes = 0;
        Set<Long> refused = new HashSet<>();
        while (refused.size() < distrust.refusedFromOutsideView()) {
            WireMessage.OutsideViewRefusal refusal = rogue.nextRefusal();
            assertThat(refusal).as("refusals after %s of %s", refused.size(), distrust.refusedFromOutsideView())
                    .isNotNull();
            replyBytes += WireFormat.encode(refusal).length;
            for (long id : refusal.requestIds()) {
                assertThat(refused.add(id)).as("request %s refused once", id).isTrue();
            }
        }
        assertThat(sent).containsAll(refused);
        // One connection delivers in order: a reply per command, sent before the last refusal, would be here by now.
        assertThat(rogue.repliesWaiting()).as("no reply per command").isZero();

        // Frame f held requests f * perFrame + 1 to (f + 1) * perFrame.
        Set<Integer> read = new HashSet<>();
        refused.forEach(id -> read.add((int) ((id - 1) / perFrame)));
        long readFrames = read.size();
        long readBytes = read.stream().mapToLong(frameBytes::get).sum();
        int largestFrame = frameBytes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertThat(distrust.refusedFromOutsideView()).as("whole frames read, every command in them refused")
                .isEqualTo(readFrames * perFrame);
        assertThat(distrust.outsideFramesOverBudget()).as("the frames past the budget, dropped unread")
                .isPositive().isEqualTo(frames - readFrames);
        assertThat((double) readBytes).as("read: the burst, the rate over %.1f s, and one frame owed", seconds)
                .isLessThanOrEqualTo(OutsiderBudget.SENDER_BURST_BYTES + OutsiderBudget.SENDER_BYTES_PER_SECOND
                        * seconds + largestFrame);
        assertThat(replyBytes).as("refusal bytes against the bytes read").isLessThanOrEqualTo(readBytes);
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("nothing ran").isZero();
        System.out.printf("rogue sent %d commands in %d frames, %d bytes, in %.1f s; node-b read %d frames (%d "
                + "commands), dropped %d unread, and answered with %d bytes of refusals (%.3fx the bytes read, %.3fx "
                + "the bytes sent)%n", frames * perFrame, frames, sentBytes, seconds, readFrames,
                distrust.refusedFromOutsideView(), distrust.outsideFramesOverBudget(), replyBytes,
                (double) replyBytes / readBytes, (double) replyBytes / sentBytes);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
