package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.CommandTimeoutException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member that stops reading (paused, drowning) holds up only the commands for the aggregates it owns: senders
 * return at once, the other members keep serving, and its own commands end cleanly at their deadline.
 */
class StuckOwnerTest {

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
    void a_member_that_stops_reading_delays_nobody_else_and_its_commands_end_cleanly() throws Exception {
        cluster.start("node-a");
        cluster.start("node-b");
        cluster.start("node-c", bus -> bus.customizeStack(protocols -> protocols.add(1, freeze))
                .suspectAfter(Duration.ofMinutes(5)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Gyre sender = cluster.node("node-a");
        List<String> onC = ownedBy("node-c", 20);
        List<String> onB = ownedBy("node-b", 20);
        for (String ledger : onC) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }
        for (String ledger : onB) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        freeze.freeze();
        // Large commands for node-c fill its socket and the sender's: the outbox thread to node-c blocks, nobody else.
        String bulk = "x".repeat(64 * 1024);
        List<CommandMessage> toC = new ArrayList<>();
        List<CompletableFuture<Object>> outcomesC = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            CommandMessage message = CommandMessage.of(new Post(onC.get(i % onC.size()), 1, "c-" + i + "-" + bulk));
            toC.add(message);
            outcomesC.add(sender.commandGateway().send(message, Duration.ofSeconds(3)));
        }
        assertThat(outcomesC).as("sends return at once, before node-c answers anything").noneMatch(
                CompletableFuture::isDone);

        // Meanwhile node-b serves as usual, through the same sender.
        for (int i = 0; i < 200; i++) {
            sender.commandGateway().sendAndWait(new Post(onB.get(i % onB.size()), 1, "b-" + i), Duration.ofSeconds(5));
        }

        int notExecuted = 0;
        int unknown = 0;
        Set<String> resolveLater = new HashSet<>();
        for (int i = 0; i < outcomesC.size(); i++) {
            try {
                outcomesC.get(i).join();
            } catch (CompletionException e) {
                assertThat(e.getCause()).isInstanceOf(CommandTimeoutException.class);
                if (e.getCause() instanceof CommandNotExecutedException) {
                    notExecuted++;
                } else {
                    assertThat(e.getCause()).isInstanceOf(CommandOutcomeUnknownException.class);
                    unknown++;
                    resolveLater.add(toC.get(i).commandId());
                }
            }
        }
        assertThat(notExecuted).as("commands that never left the sender").isPositive();

        freeze.thaw();
        // Node-c reads its backlog now: every command in it is past its deadline and must be dropped unrun.
        for (int i = 0; i < toC.size(); i++) {
            if (resolveLater.contains(toC.get(i).commandId())) {
                sender.commandGateway().sendAndWait(toC.get(i).withCommandId(toC.get(i).commandId()),
                        Duration.ofSeconds(20));
            }
        }
        Set<String> stored = new HashSet<>();
        for (String ledger : onC) {
            try (var events = store.readStream(StreamId.of("Ledger", ledger))) {
                events.map(StoredEvent::commandId).forEach(id -> assertThat(stored.add(id)).as("stored twice: " + id)
                        .isTrue());
            }
        }
        for (int i = 0; i < toC.size(); i++) {
            String id = toC.get(i).commandId();
            if (resolveLater.contains(id)) {
                assertThat(stored).as("an outcome-unknown command re-sent under its id is stored once").contains(id);
            } else if (outcomesC.get(i).isCompletedExceptionally()) {
                assertThat(stored).as("a command reported not executed is never stored").doesNotContain(id);
            }
        }
    }

    private List<String> ownedBy(String member, int count) {
        String type = "Ledger";
        return IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, type).id().equals(member))
                .limit(count).toList();
    }
}
