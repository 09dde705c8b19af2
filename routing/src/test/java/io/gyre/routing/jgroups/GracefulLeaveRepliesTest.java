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
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many commands in flight from two members to one that leaves gracefully: it answers every one it took, in a burst
 * of replies right before it disconnects (its connections send through queues of their own, non_blocking_sends), and
 * no reply is lost with them. Retries are off, so a lost reply would show as a failure for a command that is stored.
 */
class GracefulLeaveRepliesTest {

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final AtomicBoolean slow = new AtomicBoolean();
    private final AtomicInteger appending = new AtomicInteger();
    private final TestCluster cluster = new TestCluster(new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            if (!slow.get()) {
                return super.appendAsync(request);
            }
            appending.incrementAndGet();
            // Held until the member is leaving: its commands all end, and are answered, while it closes.
            return CompletableFuture.supplyAsync(() -> null,
                    CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS))
                    .thenCompose(ignored -> super.appendAsync(request));
        }
    });

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void every_command_a_leaving_member_ran_is_answered_by_it() throws Exception {
        List<Gyre> senders = new ArrayList<>();
        for (String node : List.of("node-a", "node-c")) {
            senders.add(cluster.start(node, bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                    .retryPolicy(RetryPolicy.none())));
        }
        cluster.start("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        List<String> ledgers = IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-b"))
                .limit(100).toList();
        for (String ledger : ledgers) {
            senders.get(0).commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        LedgerCheck check = new LedgerCheck();
        Map<String, CompletableFuture<Object>> outcomes = new LinkedHashMap<>();
        slow.set(true);
        for (int i = 0; i < 400; i++) {
            String ledger = ledgers.get(i % ledgers.size());
            String ref = "p-" + i;
            check.sent(ledger, ref);
            outcomes.put(ledger + "/" + ref, senders.get(i % 2).commandGateway().send(CommandMessage.of(
                    new Post(ledger, 1, ref)), Duration.ofSeconds(60)));
        }
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (appending.get() < ledgers.size() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(appending.get()).as("node-b is appending a posting of every ledger").isGreaterThanOrEqualTo(
                ledgers.size());
        cluster.leave("node-b");

        Map<String, Throwable> failures = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Object>> outcome : outcomes.entrySet()) {
            String[] key = outcome.getKey().split("/");
            try {
                outcome.getValue().get(60, TimeUnit.SECONDS);
                check.acknowledged(key[0], key[1], 1);
            } catch (ExecutionException e) {
                failures.put(key[1], e.getCause());
            }
        }
        LedgerCheck.Summary summary = check.verify(events, senders.get(0).serializer(), ledgers);
        Set<String> stored = summary.postings().stream().map(Posted::ref).collect(Collectors.toSet());
        Map<String, String> lostReplies = failures.entrySet().stream().filter(failure -> stored.contains(
                failure.getKey())).collect(Collectors.toMap(Map.Entry::getKey, failure -> failure.getValue()
                .toString()));
        System.out.printf("graceful leave: %d commands, %d acknowledged, %d refused unrun, %d stored but answered "
                + "with a failure%n", outcomes.size(), check.acknowledgedCount(), failures.size() - lostReplies.size(),
                lostReplies.size());
        assertThat(lostReplies).as("commands node-b ran whose sender was not told so").isEmpty();
        assertThat(check.acknowledgedCount()).as("postings node-b ran and answered").isGreaterThanOrEqualTo(
                ledgers.size());
    }
}
