package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.routing.MessageTooLargeException;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.serialization.SerializationException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jgroups.Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A peer that speaks the wire format but sends what no Gyre member would: each gets a typed error naming the
 * problem, nothing is stored, and the member keeps serving everyone else.
 */
class BadPeerInputTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    /** The raw peer's advertisement: on the ring, hosting nothing. */
    private static final WireMessage.Advertisement PEER = new WireMessage.Advertisement("peer", 1, Map.of());

    private RawPeer peer;
    private Address member;

    @BeforeEach
    void start() throws Exception {
        cluster.start("node-a", bus -> bus.maxMessageBytes(4096));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        peer = new RawPeer(cluster);
        member = cluster.bus("node-a").addressForTest();
        // On the ring, hosting nothing: only members of the ring have commands looked at.
        peer.advertiseUntilOnRing(cluster.bus("node-a"), PEER);
    }

    @AfterEach
    void stop() {
        peer.close();
        cluster.close();
    }

    private RuntimeException send(String type, String routingKey, String payload) throws Exception {
        return send("cmd-from-peer", type, routingKey, payload);
    }

    private RuntimeException send(String commandId, String type, String routingKey, String payload) throws Exception {
        byte[] bytes = WireFormat.encode(new WireMessage.CommandRequest(1, 0, "Ledger", commandId, 1, false,
                java.util.concurrent.TimeUnit.SECONDS.toNanos(30), type, routingKey, "{}", payload));
        peer.sendRaw(member, bytes);
        WireMessage.Reply reply = peer.nextReply();
        assertThat(reply).as("a reply").isNotNull();
        assertThat(reply.error()).as("an error").isNotNull();
        return ErrorCodec.decode(reply.error(), "node-a");
    }

    private String postType() {
        return cluster.node("node-a").serializer().types().nameOf(Post.class);
    }

    @Test
    void a_command_type_the_member_does_not_know_is_refused_naming_it() throws Exception {
        assertThat(send("NoSuchCommand", "ledger-1", "{}")).isInstanceOf(NoHandlerForCommandException.class)
                .hasMessageContaining("'NoSuchCommand'");
        assertThat(send("java.lang.Runtime", "ledger-1", "{}")).isInstanceOf(NoHandlerForCommandException.class);
        assertNothingStoredAndStillServing();
    }

    @Test
    void a_payload_that_does_not_fit_its_type_is_refused() throws Exception {
        assertThat(send(postType(), "ledger-1", "{\"id\": [\"not\", \"a\", \"string\"]")).isInstanceOf(
                SerializationException.class).hasMessageContaining(postType());
        assertNothingStoredAndStillServing();
    }

    @Test
    void a_command_routed_under_another_aggregate_than_it_targets_is_refused() throws Exception {
        assertThat(send(postType(), "ledger-2", "{\"id\":\"ledger-1\",\"amount\":5,\"ref\":\"x\"}"))
                .isInstanceOf(MissingTargetAggregateIdException.class).hasMessageContaining("'ledger-2'");
        assertNothingStoredAndStillServing();
    }

    @Test
    void a_command_without_a_command_id_is_refused_with_a_typed_error() throws Exception {
        assertThat(send(" ", postType(), "ledger-1", "{\"id\":\"ledger-1\",\"amount\":5,\"ref\":\"x\"}"))
                .isInstanceOf(SerializationException.class).hasMessageContaining("malformed");
        assertNothingStoredAndStillServing();
    }

    @Test
    void an_oversized_command_is_refused_by_the_receiving_member() throws Exception {
        String big = "{\"id\":\"ledger-1\",\"amount\":5,\"ref\":\"" + "x".repeat(10_000) + "\"}";
        assertThat(send(postType(), "ledger-1", big)).isInstanceOf(MessageTooLargeException.class)
                .hasMessageContaining("4096");
        assertNothingStoredAndStillServing();
    }

    @Test
    void an_oversized_command_is_refused_by_the_sending_member_before_it_leaves() throws Exception {
        // A starting member waits up to 10 s for every member of its view to advertise itself, and a raw peer does
        // not advertise again on a view change as a member does: it does so here while node-b starts, so that the
        // start does not sit out those 10 s. The peer hosts nothing, so no owner changes for it on node-b's ring.
        AtomicBoolean starting = new AtomicBoolean(true);
        Thread advertising = new Thread(() -> {
            try {
                while (starting.get()) {
                    peer.send(null, PEER);
                    Thread.sleep(200);
                }
            } catch (Exception e) {
                // Then node-b starts as it did before: after those 10 s.
            }
        }, "peer-advertising");
        advertising.start();
        try {
            cluster.start("node-b", bus -> bus.maxMessageBytes(4096));
        } finally {
            starting.set(false);
            advertising.join();
        }
        // node-b may have taken its view before the nodes advertised to each other: wait for the nodes.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!(cluster.bus("node-a").members().contains("node-b")
                && cluster.bus("node-b").members().contains("node-a"))) {
            assertThat(System.nanoTime() < deadline).as("node-a and node-b see each other").isTrue();
            Thread.sleep(10);
        }
        String remote = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "ledger-r" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger(remote));
        assertThatThrownBy(() -> cluster.node("node-a").commandGateway()
                .sendAndWait(new Post(remote, 1, "y".repeat(10_000))))
                .isInstanceOf(MessageTooLargeException.class).hasMessageContaining("maxMessageBytes");
        assertThat(store.lastSequence(StreamId.of("Ledger", remote))).isZero();
    }

    @Test
    void bytes_that_are_no_message_at_all_are_dropped_and_the_member_keeps_serving() throws Exception {
        peer.sendRaw(member, new byte[] {1, 99, 0, 0});
        peer.sendRaw(member, new byte[] {42});
        assertNothingStoredAndStillServing();
    }

    private void assertNothingStoredAndStillServing() {
        assertThat(store.readAll(TrackingToken.START, 100)).hasSize(1);
        cluster.node("node-a").commandGateway().sendAndWait(new Post("ledger-1", 1, "fine"));
        assertThat(store.lastSequence(StreamId.of("Ledger", "ledger-1"))).isEqualTo(1);
    }
}
