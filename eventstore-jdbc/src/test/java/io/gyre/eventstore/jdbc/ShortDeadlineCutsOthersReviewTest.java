package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.conformance.Events;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: a waiting caller that writes a group-commit batch itself bounds the whole batch by its own deadline, so
 * appends queued by other callers that shared its batch are cut with it. While a lock holds the table, a caller with
 * a short deadline should fail alone; one with time to spare, or with no deadline at all, should be written once the
 * lock is gone.
 */
class ShortDeadlineCutsOthersReviewTest {

    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    @Test
    void a_caller_with_time_to_spare_is_not_cut_by_another_caller_s_short_deadline() throws Exception {
        DataSource pool = PostgresServer.get().dataSource();
        List<String> cutOthers = Collections.synchronizedList(new ArrayList<>());
        int shortCut = 0;
        int rounds = 3;
        int callers = 12;
        try (JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true).build()) {
            for (int round = 0; round < rounds; round++) {
                CyclicBarrier start = new CyclicBarrier(callers);
                List<CompletableFuture<String>> outcomes = new ArrayList<>();
                try (Connection locker = pool.getConnection(); Statement statement = locker.createStatement()) {
                    locker.setAutoCommit(false);
                    statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
                    for (int c = 0; c < callers; c++) {
                        String id = "r" + round + "-c" + c;
                        // Every third caller is in a hurry; the others have 20 s, or no deadline at all.
                        int kind = c % 3;
                        outcomes.add(CompletableFuture.supplyAsync(() -> {
                            AppendRequest request = Events.append(id, ExpectedSequence.noStream(), "cmd-" + id, 1);
                            try {
                                start.await();
                                CompletableFuture<?> written = switch (kind) {
                                    case 0 -> store.appendWithin(request, Duration.ofMillis(300));
                                    case 1 -> store.appendWithin(request, Duration.ofSeconds(20));
                                    default -> store.appendAsync(request);
                                };
                                written.get(30, TimeUnit.SECONDS);
                                return kind + " ok";
                            } catch (ExecutionException e) {
                                return kind + " " + e.getCause().getMessage();
                            } catch (Exception e) {
                                return kind + " " + e;
                            }
                        }, runnable -> new Thread(runnable).start()));
                    }
                    Thread.sleep(1_500);
                    locker.commit();
                }
                for (int c = 0; c < callers; c++) {
                    String outcome = outcomes.get(c).get(60, TimeUnit.SECONDS);
                    String id = "r" + round + "-c" + c;
                    long last = store.lastSequence(Events.stream(id));
                    assertThat(last).as(id + " stored exactly when reported so: " + outcome)
                            .isEqualTo(outcome.endsWith(" ok") ? 0 : -1);
                    if (outcome.startsWith("0 ")) {
                        shortCut += outcome.endsWith(" ok") ? 0 : 1;
                    } else if (!outcome.endsWith(" ok")) {
                        cutOthers.add(id + (outcome.startsWith("1 ") ? " (20 s deadline): " : " (no deadline): ")
                                + outcome.substring(2));
                    }
                }
            }
        }
        System.out.println("Short deadlines cut: " + shortCut + " of " + rounds * callers / 3 + "; others cut: "
                + cutOthers.size() + " of " + rounds * callers * 2 / 3 + " " + cutOthers);
        assertThat(cutOthers).as("appends with time to spare cut by another caller's deadline").isEmpty();
    }
}
