package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of issue 10 against the blocking channel sockets (ChannelSockets): when a member stops reading and the
 * connection to it is full, only the threads that write to that member alone (the sender's outbox to it, the
 * connection's own writer) may wait on its socket. Any other thread
 * that writes to it (JGroups' timer sending heartbeats, a broadcast of Gyre's membership) would stall everyone: a
 * member whose heartbeats stop is suspected and excluded by the others.
 */
class StuckPeerThreadsReviewTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final Freeze freeze = new Freeze();

    @AfterEach
    void stop() {
        freeze.thaw();
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_member_that_stops_reading_blocks_only_the_outbox_thread_to_it() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b");
        cluster.start("node-c", bus -> bus.customizeStack(protocols -> protocols.add(1, freeze))
                .suspectAfter(Duration.ofMinutes(5)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Gyre sender = cluster.node("node-a");
        List<String> onC = ownedBy("node-c", 20);
        for (String ledger : onC) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        freeze.freeze();
        String bulk = "x".repeat(64 * 1024);
        for (int i = 0; i < 400; i++) {
            sender.commandGateway().send(CommandMessage.of(new Post(onC.get(i % onC.size()), 1, "c-" + i + bulk)),
                    Duration.ofSeconds(30));
        }
        // Sampled until a writer is seen inside a socket write, and that sample asserted: sampling again could miss
        // a writer that the peer's window let go on for a moment.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Map<String, String> writers = SocketWriters.blockedOnSocket(true);
        while (writers.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(50);
            writers = SocketWriters.blockedOnSocket(true);
        }
        assertThat(writers).as("the connection to node-c is full: its writer waits").isNotEmpty();

        // Several heartbeat intervals and suspicion timeouts (2 s) of node-a and node-b; a thread counts as stuck
        // when it is found waiting on a socket in five samples running (a second), not in passing.
        Map<String, Integer> running = new HashMap<>();
        Map<String, String> stuck = new TreeMap<>();
        long watchUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        while (System.nanoTime() < watchUntil) {
            Map<String, String> now = SocketWriters.blockedOnSocket(false);
            running.keySet().retainAll(now.keySet());
            now.forEach((thread, stack) -> {
                if (running.merge(thread, 1, Integer::sum) >= 5) {
                    stuck.put(thread, stack);
                }
            });
            Thread.sleep(200);
        }
        assertThat(stuck).as("threads other than a member's own writers stuck on a socket write").isEmpty();
        assertThat(cluster.bus("node-b").members()).as("node-a is not suspected by node-b").contains("node-a");
    }

    private List<String> ownedBy(String member, int count) {
        return IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals(member))
                .limit(count).toList();
    }
}
