package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.HandlerNotAvailableException;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.UpgradedLedger;
import io.gyre.routing.testmodel.UpgradedLedger.Debit;
import io.gyre.Metadata;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * During a rolling upgrade the owner of an aggregate may not have heard yet from the upgraded member that handles a
 * new command type, which the sender already knows: "no member handles it" is then a disagreement between members,
 * transient, never a final refusal (which {@link BadPeerInputTest} keeps for a command type nobody handles).
 */
class HandlerUnknownToOwnerTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final DropAdvertisements dropUpgraded = new DropAdvertisements("node-c");
    private RawPeer peer;

    @AfterEach
    void stop() {
        if (peer != null) {
            peer.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void an_owner_that_has_not_heard_from_the_upgraded_member_yet_lets_the_new_command_wait() throws Exception {
        // node-a owns the ledger and has not taken in node-c's advertisement; node-b has, and sends the new command.
        cluster.start("node-a", bus -> bus.customizeStack(protocols -> protocols.add(dropUpgraded)),
                gyre -> gyre.aggregate(Ledger.class).types(Debit.class));
        cluster.start("node-b", bus -> { }, gyre -> gyre.aggregate(Ledger.class).types(Debit.class));
        cluster.start("node-c", bus -> { }, gyre -> gyre.aggregate(UpgradedLedger.class));
        await("node-b knows node-c, node-a does not", () -> cluster.bus("node-b").members().contains("node-c")
                && cluster.bus("node-a").members().contains("node-b")
                && cluster.bus("node-c").members().contains("node-a"));
        assertThat(cluster.bus("node-a").members()).as("node-a's ring").doesNotContain("node-c");
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-a")
                        && cluster.bus("node-b").ring().owner(id, "Ledger").id().equals("node-a"))
                .findFirst().orElseThrow();
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger(ledger));

        assertThatThrownBy(() -> cluster.node("node-b").commandGateway().sendAndWait(new Debit(ledger, 1, "d-1"),
                Duration.ofSeconds(2)))
                .as("the debit waits for its deadline instead of being refused for good")
                .isInstanceOf(CommandNotExecutedException.class)
                .cause().isInstanceOf(HandlerNotAvailableException.class)
                .hasMessageContaining("have not advertised themselves");
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("nothing of the debit stored").isZero();

        // Asked to advertise itself again by the owner that missed it, node-c gets onto node-a's ring.
        dropUpgraded.letThrough();
        await("node-a takes in node-c", () -> cluster.bus("node-a").members().contains("node-c"));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_sender_that_knows_a_handler_retries_when_an_owner_refuses_the_type_for_good() throws Exception {
        // The peer owns ledgers and refuses a command type as handled by no member, as an owner of an older Gyre
        // judged on whatever advertisements it held.
        cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(UpgradedLedger.class));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        peer = new RawPeer(cluster);
        peer.answerCommandsWith(request -> ErrorCodec.encode(new NoHandlerForCommandException("No member of "
                + "cluster handles command type '" + request.commandType() + "'"), request.commandId()));
        peer.advertiseUntilOnRing(cluster.bus("node-a"), new WireMessage.Advertisement("peer", 10,
                Map.of("Ledger", Set.of("OpenLedger"))));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("peer"))
                .findFirst().orElseThrow();

        assertThatThrownBy(() -> cluster.node("node-a").commandGateway().sendAndWait(new Debit(ledger, 1, "d-1"),
                Duration.ofSeconds(2)))
                .isInstanceOf(CommandNotExecutedException.class)
                .cause().isInstanceOf(HandlerNotAvailableException.class)
                .hasMessageContaining("node-a");
        assertThat(peer.commandsReceived()).as("sends of the debit, retried until its deadline").isGreaterThan(1);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void an_owner_without_the_handler_that_leaves_before_answering_cannot_have_run_the_command() throws Exception {
        // Old owners, as raw peers: the first never answers and then leaves, the second answers "not yet".
        cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(UpgradedLedger.class));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Map<String, Set<String>> oldVersion = Map.of("Ledger", Set.of("LedgerMessages$OpenLedger"));
        RawPeer silent = new RawPeer(cluster);
        peer = new RawPeer(cluster);
        try {
            peer.answerCommandsWith(request -> ErrorCodec.encode(new HandlerNotAvailableException("Member peer-2 "
                    + "has no handler for " + request.commandType() + " yet"), request.commandId()));
            JGroupsCommandBus nodeA = cluster.bus("node-a");
            silent.advertiseUntilOnRing(nodeA, new WireMessage.Advertisement("peer-1", 10, oldVersion));
            peer.advertiseUntilOnRing(nodeA, new WireMessage.Advertisement("peer-2", 10, oldVersion));
            HashRing afterLeave = HashRing.of(1, List.of(new Member("node-a", 1, Set.of("Ledger")),
                    new Member("peer-2", 10, Set.of("Ledger"))));
            String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                    .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("peer-1")
                            && afterLeave.owner(id, "Ledger").id().equals("peer-2"))
                    .findFirst().orElseThrow();

            CompletableFuture<Object> debit = cluster.node("node-a").commandGateway().send(new Debit(ledger, 1,
                    "d-1"), Metadata.empty(), Duration.ofSeconds(4));
            await("the debit reached peer-1", () -> silent.commandsReceived() > 0);
            silent.close();

            assertThatThrownBy(() -> debit.get(30, TimeUnit.SECONDS)).cause()
                    .as("peer-1 had no handler for the debit: it left without running it")
                    .isInstanceOf(CommandNotExecutedException.class)
                    .cause().isInstanceOf(HandlerNotAvailableException.class);
            assertThat(peer.commandsReceived()).as("the debit went to peer-2 once peer-1 left").isPositive();
        } finally {
            silent.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_in_flight_at_its_deadline_to_an_owner_without_its_handler_was_not_executed() throws Exception {
        cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(UpgradedLedger.class));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        peer = new RawPeer(cluster);
        peer.advertiseUntilOnRing(cluster.bus("node-a"), new WireMessage.Advertisement("peer", 10, Map.of("Ledger",
                Set.of("LedgerMessages$OpenLedger"))));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("peer"))
                .findFirst().orElseThrow();

        // The peer, an old owner, never answers: the debit is still in flight to it when its deadline passes.
        assertThatThrownBy(() -> cluster.node("node-a").commandGateway().sendAndWait(new Debit(ledger, 1, "d-1"),
                Duration.ofSeconds(1)))
                .as("an owner without a handler for Debit cannot have run it")
                .isInstanceOf(CommandNotExecutedException.class);
        assertThat(peer.commandsReceived()).isPositive();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
