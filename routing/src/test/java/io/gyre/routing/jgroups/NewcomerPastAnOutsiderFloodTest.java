package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Metadata;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import io.gyre.serialization.SerializedValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A few addresses outside a member's view can keep the budget that all such addresses share empty, and then a real
 * newcomer's commands to that member are dropped unread, like theirs, until the member's view holds it. Nothing
 * would answer them before their deadline; the member tells the newcomer once its view holds it, and the newcomer
 * sends again what it waits on. A re-send of a command that was read after all, and is running, is answered with the
 * first run's decision and stored once.
 */
class NewcomerPastAnOutsiderFloodTest {

    /** Rogue frames: no command in them (so every refusal node-b counts is the newcomer's), 16 KiB each. */
    private static final byte[] ROGUE_FRAME = WireFormat.encode(new WireMessage.Leaving("r".repeat(16 * 1024)));

    /** Holds the first append of events to one ledger on the calling thread (the owner's worker) until released. */
    private final CountDownLatch appendHeld = new CountDownLatch(1);
    private final CountDownLatch releaseAppend = new CountDownLatch(1);
    private volatile String holdLedger = "";
    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ForwardingEventStore store = new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request);
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (request.aggregateId().equals(holdLedger) && !request.events().isEmpty()
                    && appendHeld.getCount() > 0) {
                appendHeld.countDown();
                try {
                    releaseAppend.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.append(request);
        }
    };
    private final TestCluster cluster = new TestCluster(store);
    private final HoldViews holdViewsOfB = new HoldViews();
    private final InjectFrames intoB = new InjectFrames();
    private final InjectFrames intoD = new InjectFrames();
    private final List<AutoCloseable> closeLast = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        holdViewsOfB.release();
        releaseAppend.countDown();
        for (AutoCloseable closeable : closeLast) {
            closeable.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_newcomer_whose_commands_were_dropped_unread_gets_them_answered_soon_after_the_owners_view_holds_it()
            throws Exception {
        cluster.start("node-a");
        // node-b never takes in the advertisement of "unheard", so it advertises itself at every sweep, and reaches
        // node-d before its channel has installed the view that holds node-d (as in CommandFromANewcomerTest).
        cluster.start("node-b", bus -> bus.customizeStack(stack -> {
            stack.add(new DropAdvertisements("unheard"));
            stack.add(holdViewsOfB);
            stack.add(intoB);
        }).suspectAfter(Duration.ofMinutes(2)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        RawPeer unheard = new RawPeer(cluster);
        closeLast.add(unheard);
        ScheduledExecutorService advertiser = Executors.newSingleThreadScheduledExecutor();
        closeLast.add(advertiser::shutdownNow);
        advertiser.scheduleWithFixedDelay(() -> {
            try {
                unheard.send(null, new WireMessage.Advertisement("unheard", 1, Map.of()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, 0, 200, TimeUnit.MILLISECONDS);
        await("node-a takes in the unheard member", () -> cluster.bus("node-a").members().contains("unheard"));
        HashRing withNewcomer = HashRing.of(1, List.of(new Member("node-a", 1, Set.of("Ledger")),
                new Member("node-b", 1, Set.of("Ledger")), new Member("node-d", 1, Set.of("Ledger"))));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b")
                        && withNewcomer.owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        JGroupsCommandBus nodeB = cluster.bus("node-b");

        // Four addresses outside node-b's view, each kept within its own budget by node-b, together keep the shared
        // budget empty from now on (and as long as the test runs).
        List<Address> rogues = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        Thread flood = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                for (int round = 0; round < 3; round++) {
                    for (Address rogue : rogues) {
                        intoB.inject(rogue, ROGUE_FRAME);
                    }
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }, "rogue-flood");
        flood.setDaemon(true);
        flood.start();
        closeLast.add(() -> {
            flood.interrupt();
            flood.join(10_000);
        });
        await("the rogues spent the shared budget", () -> nodeB.distrust().outsideFramesOverBudget() > 100);

        holdViewsOfB.hold();
        cluster.start("node-d");
        assertThat(holdViewsOfB.holdsAView()).as("node-b has not installed the view with node-d").isTrue();
        // node-d's ring holds node-b once node-b's advertisement is in (sent at its next sweep): not always by the
        // time start returns on a loaded machine.
        await("node-d routes the ledger to node-b",
                () -> cluster.bus("node-d").ring().owner(ledger, "Ledger").id().equals("node-b"));
        intoB.watch(cluster.bus("node-d").addressForTest());
        CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7,
                "from-newcomer"), Metadata.empty(), Duration.ofSeconds(60));
        await("node-b handled node-d's command", () -> intoB.commandsFromWatched() > 0);
        assertThat(nodeB.distrust().refusedFromOutsideView()).as("node-d's command was dropped unread: no refusal")
                .isZero();
        assertThat(post).as("nothing answers a command dropped unread").isNotDone();

        long released = System.nanoTime();
        holdViewsOfB.release();
        Long balance = post.get(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - released) / 1e9;

        assertThat(balance).as("the posting ran, on the opened ledger: the balance after it").isEqualTo(7L);
        assertThat(seconds).as("answered soon after node-b's view held node-d, not at the 60 s deadline")
                .isLessThan(15);
        assertThat(events.lastSequence(StreamId.of("Ledger", ledger))).as("the posting, stored once").isEqualTo(1);
        assertThat(nodeB.distrust().outsideFramesOverBudget()).as("the rogues were still dropped").isPositive();
        System.out.printf("node-d's command, dropped unread by node-b during a flood from 4 addresses outside its "
                + "view, was answered %.2f s after node-b's view took node-d in (deadline 60 s); node-b dropped %d "
                + "frames from outside its view unread%n", seconds, nodeB.distrust().outsideFramesOverBudget());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_sent_again_on_such_a_notice_while_its_first_delivery_runs_is_answered_by_that_run_and_stored_once()
            throws Exception {
        cluster.start("node-b", bus -> bus.customizeStack(stack -> stack.add(intoB)));
        cluster.start("node-d", bus -> bus.customizeStack(stack -> stack.add(intoD)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-d").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-d").commandGateway().sendAndWait(new OpenLedger(ledger));
        intoB.watch(cluster.bus("node-d").addressForTest());
        holdLedger = ledger;

        CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7, "twice?"),
                Metadata.empty(), Duration.ofSeconds(30));
        assertThat(appendHeld.await(20, TimeUnit.SECONDS)).as("node-b runs the posting, its append held").isTrue();

        // node-b's notice that it dropped frames from node-d (as it would after a flood), or refused them: node-d
        // cannot know which commands were read, so it sends the running one again.
        intoD.inject(cluster.bus("node-b").addressForTest(), WireFormat.encode(new WireMessage.SendAgain(9)));
        await("node-d sent the posting again", () -> intoB.commandsFromWatched() >= 2);
        releaseAppend.countDown();

        assertThat(post.get(30, TimeUnit.SECONDS)).as("the first run's decision: the balance after it")
                .isEqualTo(7L);
        List<StoredEvent> stored = events.readStream(StreamId.of("Ledger", ledger), 0).toList();
        assertThat(stored).as("opened, and posted once").hasSize(2);
        Object posted = cluster.node("node-b").serializer().deserialize(new SerializedValue(stored.get(1).type(),
                stored.get(1).payload()));
        assertThat(posted).isInstanceOf(Posted.class);
        assertThat(((Posted) posted).ref()).isEqualTo("twice?");
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
