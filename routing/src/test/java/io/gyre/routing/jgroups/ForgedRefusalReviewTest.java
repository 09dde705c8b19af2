package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review: a peer in the view forges refusals (wire kind 7) naming every request id a member may have pending, while
 * that member's command runs on its owner. Only the member a request went to may refuse it: the command must neither
 * be reported as not run (while it runs) nor be sent again and run twice.
 */
class ForgedRefusalReviewTest {

    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger blockedAppends = new AtomicInteger();
    private volatile String blockedLedger = "";
    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ForwardingEventStore store = new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request);
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (request.aggregateId().equals(blockedLedger)) {
                blockedAppends.incrementAndGet();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.append(request);
        }
    };
    private final TestCluster cluster = new TestCluster(store);
    private RawPeer rogue;

    @BeforeEach
    void start() {
        cluster.start("node-a");
        cluster.start("node-b");
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (rogue != null) {
            rogue.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void refusals_forged_by_another_member_of_the_view_neither_fail_nor_repeat_a_running_command() throws Exception {
        cluster.awaitConvergence(Duration.ofSeconds(20));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        rogue = new RawPeer(cluster);
        blockedLedger = ledger;

        CompletableFuture<Object> post = cluster.node("node-a").commandGateway().send(new Post(ledger, 5, "once"));
        await("the post runs on node-b and waits there", () -> blockedAppends.get() == 1);
        JGroupsCommandBus nodeA = cluster.bus("node-a");
        WireMessage.OutsideViewRefusal forged = new WireMessage.OutsideViewRefusal(nodeA.ring().version() + 1, 1,
                LongStream.rangeClosed(1, WireMessage.OutsideViewRefusal.MAX_REQUEST_IDS).boxed().toList());
        // Sent until node-a has the rogue in its view and reads it as a refusal of its pending request.
        await("node-a ignored a forged refusal of its pending request", () -> {
            try {
                rogue.send(nodeA.addressForTest(), forged);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return nodeA.distrust().misdirectedReplies() > 0;
        });

        assertThat(post).as("still waiting for its owner").isNotDone();
        release.countDown();
        post.get(20, TimeUnit.SECONDS);
        assertThat(blockedAppends.get()).as("appends of the post: run once, never sent again").isEqualTo(1);
        assertThat(events.lastSequence(StreamId.of("Ledger", ledger))).as("opened (sequence 0), then posted once").isEqualTo(1);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(50);
        }
    }
}
