package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A process that speaks the wire format and joins an insecure (loopback) cluster without being a Gyre member: the
 * ring is the only guard there, and nothing it says is believed. Each refusal is counted.
 */
class RoguePeerTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final Freeze freezeB = new Freeze();
    private RawPeer rogue;

    @BeforeEach
    void start() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b", bus -> bus.customizeStack(stack -> stack.add(1, freezeB))
                .suspectAfter(Duration.ofMinutes(5)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        rogue = new RawPeer(cluster);
    }

    @AfterEach
    void stop() {
        freezeB.thaw();
        rogue.close();
        cluster.close();
    }

    private Address address(String node) {
        return cluster.bus(node).addressForTest();
    }

    @Test
    void a_command_from_a_process_that_is_not_on_the_ring_is_not_run() throws Exception {
        String ledger = ledgerOwnedBy("node-a");
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        String payload = "{\"id\":\"" + ledger + "\",\"amount\":1000000,\"ref\":\"rogue\"}";
        String type = cluster.node("node-a").serializer().types().nameOf(Post.class);
        rogue.send(address("node-a"), new WireMessage.CommandRequest(1, 0, "Ledger", "rogue-1", 1, false,
                TimeUnit.SECONDS.toNanos(30), type, ledger, "{}", payload));

        WireMessage.Reply reply = rogue.nextReply();
        assertThat(reply).isNotNull();
        assertThat(ErrorCodec.decode(reply.error(), "node-a")).isInstanceOf(NotOwnerException.class)
                .hasMessageContaining("not on it");
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).as("nothing stored").isZero();
        assertThat(cluster.bus("node-a").distrust().commandsFromNonMembers()).isEqualTo(1);
    }

    @Test
    void an_advertisement_above_the_weight_limit_is_refused_and_the_ring_stays_as_it_was() throws Exception {
        rogue.send(null, new WireMessage.Advertisement("rogue", 100,
                Map.of("Ledger", Set.of("Post", "OpenLedger"))));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (cluster.bus("node-a").distrust().refusedAdvertisements() == 0) {
            assertThat(System.nanoTime() < deadline).as("the advertisement was refused").isTrue();
            Thread.sleep(10);
        }
        assertThat(cluster.bus("node-a").members()).containsExactlyInAnyOrder("node-a", "node-b");
        assertThat(cluster.node("node-a").commandGateway().<String>sendAndWait(new OpenLedger("after-rogue")))
                .isEqualTo("after-rogue");
    }

    @Test
    void replies_from_another_member_than_the_one_asked_and_departures_announced_by_strangers_are_ignored()
            throws Exception {
        String ledger = ledgerOwnedBy("node-b");
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        freezeB.freeze();
        CompletableFuture<Object> pending = cluster.node("node-a").commandGateway().send(new Post(ledger, 5, "real"));
        while (cluster.bus("node-a").pendingRemoteCommands() == 0) {
            Thread.onSpinWait();
        }
        // The rogue cannot see node-a's request ids, so it tries them all: each forged reply is ignored.
        for (long id = 1; id <= 50; id++) {
            rogue.send(address("node-a"), new WireMessage.Reply(id, null, null));
        }
        rogue.send(null, new WireMessage.Leaving("node-b"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (cluster.bus("node-a").distrust().misdirectedReplies() == 0
                || cluster.bus("node-a").distrust().leavesFromNonMembers() == 0) {
            assertThat(System.nanoTime() < deadline).as("the forgeries were counted").isTrue();
            Thread.sleep(10);
        }
        assertThat(pending).as("no forged reply completed the command").isNotDone();
        assertThat(cluster.bus("node-a").members()).as("node-b is still on the ring").contains("node-b");

        freezeB.thaw();
        assertThat(pending.get(20, TimeUnit.SECONDS)).as("node-b's own answer: the balance after it").isEqualTo(5L);
        assertThat(store.lastSequence(StreamId.of("Ledger", ledger))).isEqualTo(1);
    }

    private String ledgerOwnedBy(String node) {
        return java.util.stream.IntStream.range(0, 10_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals(node))
                .findFirst().orElseThrow();
    }
}
