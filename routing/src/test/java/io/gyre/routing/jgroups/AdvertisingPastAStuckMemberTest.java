package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.processing.SegmentOwnership;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.eventstore.InMemoryEventStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member whose connection to a stuck member is full (that member stopped reading) still tells every other member
 * what it hosts and runs: its advertisements do not wait behind the stuck member's socket, and neither does anything
 * else its timer thread does (the sweep of expired requests, asking members to advertise).
 */
class AdvertisingPastAStuckMemberTest {

    private static final String PROCESSOR = "tally";

    private final TestCluster cluster = new TestCluster(new InMemoryEventStore());
    private final Freeze freeze = new Freeze();
    private final List<SegmentOwnership.Registration> followed = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        freeze.thaw();
        for (SegmentOwnership.Registration registration : followed) {
            registration.close();
        }
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_member_whose_socket_to_a_stuck_member_is_full_still_advertises_its_processors_to_the_others()
            throws Exception {
        // Nobody suspects anybody: a member whose JGroups threads block on node-c's socket stops sending heartbeats
        // (and node-b soon stops reading node-c, blocked sending it acknowledgements), and the view would drop node-c
        // or node-b, which ends the test's situation instead of showing it.
        cluster.start("node-a", bus -> bus.suspectAfter(Duration.ofMinutes(5)));
        cluster.start("node-b", bus -> bus.suspectAfter(Duration.ofMinutes(5)));
        cluster.start("node-c", bus -> bus.customizeStack(protocols -> protocols.add(1, freeze))
                .suspectAfter(Duration.ofMinutes(5)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        followed.add(cluster.bus("node-a").follow(PROCESSOR, 8, owned -> { }));
        awaitUntil(Duration.ofSeconds(10), () -> placedOn("node-a").equals(List.of("node-a")));
        Gyre sender = cluster.node("node-b");
        List<String> onC = IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-b").ring().owner(id, "Ledger").id().equals("node-c"))
                .limit(20).toList();
        for (String ledger : onC) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        freeze.freeze();
        // Large commands from node-b fill node-c's socket and node-b's: node-b's writes to node-c now block.
        String bulk = "x".repeat(64 * 1024);
        for (int i = 0; i < 400; i++) {
            sender.commandGateway().send(CommandMessage.of(new Post(onC.get(i % onC.size()), 1, "c-" + i + bulk)),
                    Duration.ofSeconds(2));
        }
        // Only node-b sends to node-c, so a writer blocked on a socket is node-b's to node-c.
        awaitUntil(Duration.ofSeconds(20), () -> !SocketWriters.all().isEmpty());

        // Node-b starts running the processor: it advertises its processors, to node-c as well.
        long advertised = System.nanoTime();
        followed.add(cluster.bus("node-b").follow(PROCESSOR, 8, owned -> { }));
        long deadline = advertised + TimeUnit.SECONDS.toNanos(5);
        while (!placedOn("node-a").contains("node-b") && System.nanoTime() - deadline < 0) {
            Thread.sleep(5);
        }
        assertThat(placedOn("node-a")).as("node-a's placement of %s 5 s after node-b followed it, while these "
                + "threads were blocked writing: %s", PROCESSOR, SocketWriters.all()).contains("node-b");
        System.out.printf("%s: node-a placed segments on node-b %d ms after node-b followed the processor, "
                        + "while %s were blocked writing%n", getClass().getSimpleName(),
                (System.nanoTime() - advertised) / 1_000_000, SocketWriters.all().keySet());
    }

    /** @return the members a member placed the processor's segments on, without repeats, sorted */
    private List<String> placedOn(String member) {
        Map<Integer, String> owners = cluster.bus(member).segmentOwners(PROCESSOR);
        return owners.values().stream().distinct().sorted().toList();
    }

    private static void awaitUntil(Duration timeout, java.util.function.BooleanSupplier done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout);
            }
            Thread.sleep(10);
        }
    }
}
