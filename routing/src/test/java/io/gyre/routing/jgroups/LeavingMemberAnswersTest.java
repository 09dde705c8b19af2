package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.command.RetryPolicy;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member that leaves gracefully answers the commands it ran for other members before it disconnects: their
 * replies are sent, not dropped with its outboxes. A sender that lost the reply would be told only that the member
 * left, and would have to send the command again to learn its outcome (here, with retries off, it would fail).
 */
class LeavingMemberAnswersTest {

    private static final String SLOW = "slow";

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final CountDownLatch appending = new CountDownLatch(8);
    private final TestCluster cluster = new TestCluster(new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            boolean slow = request.events().stream().anyMatch(event -> event.payload().contains("\"" + SLOW + "\""));
            if (!slow) {
                return super.appendAsync(request);
            }
            appending.countDown();
            // Held until the member is leaving: its commands end while it closes.
            return CompletableFuture.supplyAsync(() -> null,
                    CompletableFuture.delayedExecutor(700, TimeUnit.MILLISECONDS))
                    .thenCompose(ignored -> super.appendAsync(request));
        }
    });

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void commands_running_on_a_member_that_leaves_gracefully_are_answered_by_it() throws Exception {
        Gyre sender = cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .retryPolicy(RetryPolicy.none()));
        cluster.start("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        List<String> ledgers = IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .limit(8).toList();
        for (String ledger : ledgers) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        List<CompletableFuture<Object>> outcomes = new ArrayList<>();
        for (String ledger : ledgers) {
            outcomes.add(sender.commandGateway().send(CommandMessage.of(new Post(ledger, 5, SLOW)),
                    Duration.ofSeconds(30)));
        }
        assertThat(appending.await(20, TimeUnit.SECONDS)).as("node-b is appending all eight").isTrue();
        cluster.leave("node-b");

        for (CompletableFuture<Object> outcome : outcomes) {
            assertThat(outcome.get(20, TimeUnit.SECONDS)).as("answered by node-b, not re-sent").isEqualTo(5L);
        }
    }
}
