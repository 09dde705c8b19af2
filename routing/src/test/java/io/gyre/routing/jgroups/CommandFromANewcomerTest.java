package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.GyreTransientException;
import io.gyre.Metadata;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.UNICAST3;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A newcomer installs its first view as soon as the coordinator answers its join, and may send commands before
 * another member has installed the view that holds it (issue 10). That member does not run them, since only members
 * of its view are believed, but it answers each with a transient refusal, so that the newcomer retries after the
 * view has settled instead of waiting for an answer that never comes until the command's deadline.
 */
class CommandFromANewcomerTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final HoldViews holdViewsOfB = new HoldViews();
    /** node-b never takes in the advertisement of "unheard", so it asks for it, and advertises itself, every sweep. */
    private final DropAdvertisements unheardByB = new DropAdvertisements("unheard");
    private RawPeer newcomer;

    @BeforeEach
    void start() throws Exception {
        cluster.start("node-a");
        // node-b's heartbeats from node-a wait behind the view it holds: it must not suspect node-a meanwhile.
        cluster.start("node-b", bus -> bus.customizeStack(stack -> {
            stack.add(unheardByB);
            stack.add(holdViewsOfB);
        })
                .suspectAfter(Duration.ofMinutes(2)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        holdViewsOfB.release();
        if (newcomer != null) {
            newcomer.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_from_a_member_not_yet_in_the_owners_view_is_refused_for_now_and_runs_once_when_sent_again()
            throws Exception {
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        Address owner = cluster.bus("node-b").addressForTest();

        // The newcomer joins through the coordinator, node-a; node-b has not installed the view that holds it yet.
        holdViewsOfB.hold();
        newcomer = new RawPeer(cluster);
        await("node-b holds the view with the newcomer", holdViewsOfB::holdsAView);
        // The refusal is sent once, without retransmission, and a transport that does not know yet where the
        // newcomer listens drops it (it learns that from the newcomer's discovery and merge messages, which a loaded
        // machine may not have carried yet): the lost refusal is the third test's case, not this one's.
        await("node-b's transport knows where the newcomer listens",
                () -> physicalAddress(cluster.bus("node-b"), newcomer.addressForTest()) != null);
        WireMessage.CommandRequest post = new WireMessage.CommandRequest(1, 0, "Ledger", "post-from-newcomer", 1,
                false, TimeUnit.SECONDS.toNanos(30), cluster.node("node-b").serializer().types().nameOf(Post.class),
                ledger, "{}", "{\"id\":\"" + ledger + "\",\"amount\":7,\"ref\":\"newcomer\"}");
        newcomer.send(owner, post);

        WireMessage.OutsideViewRefusal refusal = newcomer.nextRefusal();
        assertThat(refusal).as("an answer from the owner, before the command's deadline").isNotNull();
        assertThat(refusal.requestIds()).containsExactly(1L);
        RuntimeException refused = ErrorCodec.notInView(refusal, "node-b", "newcomer", post.commandId());
        assertThat(refused).as("transient: the newcomer sends it again once the view has settled")
                .isInstanceOf(NotOwnerException.class).isInstanceOf(GyreTransientException.class)
                .hasMessageContaining("not in its view").hasMessageContaining("post-from-newcomer");
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("the refused command did not run").isZero();
        assertThat(cluster.bus("node-b").distrust().fromOutsideView()).isPositive();
        assertThat(cluster.bus("node-b").distrust().refusedFromOutsideView()).isEqualTo(1);

        // A frame of many commands gets every one refused, in frames the newcomer's transport takes.
        List<WireMessage.CommandRequest> batch = IntStream.rangeClosed(100, 499).mapToObj(id -> new WireMessage
                .CommandRequest(id, 0, "Ledger", "batched-" + id + "-" + "x".repeat(200), 1, false,
                post.remainingNanos(), post.commandType(), ledger, "{}", post.payload())).toList();
        newcomer.sendRaw(owner, WireFormat.encode(batch));
        Set<Long> refusedIds = new HashSet<>();
        while (refusedIds.size() < batch.size()) {
            WireMessage.OutsideViewRefusal more = newcomer.nextRefusal();
            assertThat(more).as("refusals after %s of %s", refusedIds.size(), batch.size()).isNotNull();
            refusedIds.addAll(more.requestIds());
        }
        assertThat(refusedIds).hasSize(batch.size());
        assertThat(cluster.bus("node-b").distrust().refusedFromOutsideView()).as("one count per command")
                .isEqualTo(1 + batch.size());
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("none of them ran").isZero();

        // Once node-b has the view and the newcomer on its ring, the same command runs, once.
        holdViewsOfB.release();
        newcomer.advertiseUntilOnRing(cluster.bus("node-b"), new WireMessage.Advertisement("newcomer", 1, Map.of()));
        for (long requestId = 2; requestId <= 3; requestId++) {
            newcomer.send(owner, new WireMessage.CommandRequest(requestId, 0, "Ledger", post.commandId(), 2, false,
                    post.remainingNanos(), post.commandType(), ledger, "{}", post.payload()));
            WireMessage.Reply answer = newcomer.nextReply();
            assertThat(answer).as("the answer to request %s", requestId).isNotNull();
            assertThat(answer.requestId()).isEqualTo(requestId);
            assertThat(answer.error()).as("the answer to request %s", requestId).isNull();
        }
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("the posting, stored once").isEqualTo(1);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_newcomer_that_sends_to_an_owner_which_has_not_installed_its_view_yet_gets_its_command_run_once()
            throws Exception {
        // A view member whose advertisements node-b drops: node-b keeps advertising itself at every sweep, and so
        // reaches a newcomer its transport already knows before its channel has installed the view that holds it.
        RawPeer unheard = new RawPeer(cluster);
        ScheduledExecutorService advertiser = Executors.newSingleThreadScheduledExecutor();
        try {
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

            holdViewsOfB.hold();
            cluster.start("node-d");
            assertThat(holdViewsOfB.holdsAView()).as("node-b has not installed the view with node-d").isTrue();
            // node-d's ring holds node-b once node-b's advertisement is in (sent at its next sweep): not always by the
            // time start returns on a loaded machine.
            await("node-d routes the ledger to node-b",
                    () -> cluster.bus("node-d").ring().owner(ledger, "Ledger").id().equals("node-b"));
            CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7,
                    "from-newcomer"), Metadata.empty(), Duration.ofSeconds(8));
            Thread.sleep(1_000);
            holdViewsOfB.release();

            assertThat(post.get(30, TimeUnit.SECONDS)).as("answered before its deadline: the balance after it")
                    .isEqualTo(7L);
            assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("the posting, stored once")
                    .isEqualTo(1);
        } finally {
            advertiser.shutdownNow();
            unheard.close();
        }
    }

    /**
     * A refusal is sent once, without retransmission: when it is lost, the newcomer hears nothing of its command until
     * the owner's view holds it, and then the owner tells it to send again what it waits on.
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void a_newcomer_whose_refusal_was_lost_gets_its_command_run_once_soon_after_the_owners_view_holds_it()
            throws Exception {
        RawPeer unheard = new RawPeer(cluster);
        ScheduledExecutorService advertiser = Executors.newSingleThreadScheduledExecutor();
        try {
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

            holdViewsOfB.hold();
            DropRefusals lostRefusals = new DropRefusals();
            cluster.start("node-d", bus -> bus.customizeStack(stack -> stack.add(lostRefusals)));
            // node-d's ring holds node-b once node-b's advertisement is in (sent at its next sweep): not always by
            // the time start returns on a loaded machine.
            await("node-d routes the ledger to node-b",
                    () -> cluster.bus("node-d").ring().owner(ledger, "Ledger").id().equals("node-b"));
            CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7,
                    "refusal-lost"), Metadata.empty(), Duration.ofSeconds(120));
            // Up to 60 s: on a loaded machine the first test of a fresh JVM has been seen to need more than 20.
            await("node-b refused the command, and the refusal was lost", () -> lostRefusals.dropped() > 0,
                    Duration.ofSeconds(60), () -> state(post));
            assertThat(post).as("nothing else answers it").isNotDone();

            long released = System.nanoTime();
            holdViewsOfB.release();
            assertThat(post.get(90, TimeUnit.SECONDS)).as("the balance after it").isEqualTo(7L);
            double seconds = (System.nanoTime() - released) / 1e9;

            assertThat(seconds).as("answered soon after node-b's view held node-d, not at the 120 s deadline")
                    .isLessThan(15);
            assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("the posting, stored once")
                    .isEqualTo(1);
        } finally {
            advertiser.shutdownNow();
            unheard.close();
        }
    }

    private static @Nullable Object physicalAddress(JGroupsCommandBus member, Address of) {
        TCP transport = member.protocolForTest(TCP.class);
        return transport == null ? null : transport.down(new Event(Event.GET_PHYSICAL_ADDRESS, of));
    }

    /** What a failed wait of the lost-refusal test reports: where the command is, and what the members' threads do. */
    private String state(CompletableFuture<Long> post) {
        JGroupsCommandBus b = cluster.bus("node-b");
        JGroupsCommandBus d = cluster.bus("node-d");
        StringBuilder state = new StringBuilder().append("the command: ").append(post)
                .append("\nnode-b: ").append(b.distrust()).append(", members ").append(b.members())
                .append(", knows where node-d listens: ").append(physicalAddress(b, d.addressForTest()))
                .append("\nnode-d: pending ").append(d.pendingRemoteCommands()).append(", in outboxes ")
                .append(d.waitingRemoteCommands()).append(", members ").append(d.members())
                .append(", knows where node-b listens: ").append(physicalAddress(d, b.addressForTest()));
        for (JGroupsCommandBus member : List.of(b, d)) {
            UNICAST3 unicast = member.protocolForTest(UNICAST3.class);
            state.append("\n").append(member.memberId()).append("'s unicast connections:\n")
                    .append(unicast == null ? "none" : unicast.printConnections());
        }
        for (ThreadInfo thread : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false, 30)) {
            state.append('\n').append(thread);
        }
        return state.toString();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, condition, Duration.ofSeconds(20), () -> "");
    }

    private static void await(String what, BooleanSupplier condition, Duration timeout, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Not within " + timeout.toSeconds() + " s: " + what + "\n" + state.get());
            }
            Thread.sleep(10);
        }
    }
}
