package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Review of group commit (issue 13): one poison append among 64 queued behind a busy transaction, each poison
 * something the database itself refuses (not the store's own checks): the 63 others are stored once, in one
 * transaction, and the poison fails alone, as non-transient (sending it again cannot help), with nothing of it
 * stored; the store goes on serving.
 *
 * <p>PostgreSQL only: H2 keeps payload and metadata as plain text and stores all four poisons (reported in the
 * review: the dialects differ on what they refuse, and an event that is not JSON can be stored on H2 and never read
 * back into an object).
 */
class PoisonInGroupReviewTest {

    abstract static class OnDatabase {

        private final List<AutoCloseable> resources = new ArrayList<>();
        private TestDatabase database;
        CommitControl control;
        JdbcEventStore store;

        abstract TestDatabase createDatabase();

        @AfterEach
        void close() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
        }

        void open() {
            database = createDatabase();
            resources.add(database);
            control = new CommitControl(database.dataSource(), database.tables().events());
            store = JdbcEventStore.builder(control).tableNames(database.tables()).createSchema(true)
                    .appendTransactions(1).build();
            resources.add(store);
        }

        @Test
        void a_json_nul_escape_in_a_group_fails_alone() throws Exception {
            poisonFailsAlone("{\"text\":\"a\\u0000b\"}", "{}");
        }

        @Test
        void a_raw_nul_character_in_a_group_fails_alone() throws Exception {
            poisonFailsAlone("{\"text\":\"a\u0000b\"}", "{}");
        }

        @Test
        void a_payload_that_is_not_json_in_a_group_fails_alone() throws Exception {
            poisonFailsAlone("not json at all", "{}");
        }

        @Test
        void metadata_that_is_not_json_in_a_group_fails_alone() throws Exception {
            poisonFailsAlone("{}", "{oops");
        }

        private void poisonFailsAlone(String payload, String metadata) throws Exception {
            open();
            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<AppendResult> first = store.appendAsync(append("first", "{}", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).as("the first transaction holds the writer").isTrue();
            List<CompletableFuture<AppendResult>> group = new ArrayList<>();
            for (int i = 0; i < 63; i++) {
                group.add(store.appendAsync(append("good-" + i, "{\"n\":" + i + "}", "{}")));
                if (i == 31) {
                    group.add(store.appendAsync(append("poison", payload, metadata)));
                }
            }
            CompletableFuture<AppendResult> poison = group.remove(32);
            int before = control.commits();
            hold.release.countDown();

            first.get(30, TimeUnit.SECONDS);
            for (int i = 0; i < group.size(); i++) {
                assertThat(group.get(i).get(30, TimeUnit.SECONDS)).as("good-" + i).isEqualTo(new AppendResult(0, 0));
            }
            Throwable failure = failureOf(poison);
            assertThat(failure).as("the poison's failure").isInstanceOf(GyreNonTransientException.class)
                    .isNotInstanceOf(GyreTransientException.class);
            assertThat(control.commits() - before).as("transactions: the held one, then the group").isEqualTo(2);
            for (int i = 0; i < 63; i++) {
                assertThat(store.lastSequence(StreamId.of("Poison", "good-" + i))).as("good-" + i).isZero();
            }
            assertThat(store.lastSequence(StreamId.of("Poison", "poison"))).isEqualTo(-1);
            assertThat(store.findCommand(StreamId.of("Poison", "poison"), "cmd-poison")).isEmpty();
            assertThat(store.appendAsync(append("after", "{}", "{}")).get(30, TimeUnit.SECONDS))
                    .as("the store goes on").isEqualTo(new AppendResult(0, 0));
            assertThat(totalRows()).as("events stored: first, 63, after").isEqualTo(65);
        }

        private long totalRows() throws Exception {
            try (Connection connection = database.dataSource().getConnection();
                 Statement statement = connection.createStatement();
                 var rows = statement.executeQuery("SELECT COUNT(*) FROM " + database.tables().events())) {
                rows.next();
                return rows.getLong(1);
            }
        }

        private static Throwable failureOf(CompletableFuture<AppendResult> append) throws Exception {
            try {
                append.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                return e.getCause();
            }
            throw new AssertionError("the poison was stored");
        }

        private static AppendRequest append(String id, String payload, String metadata) {
            return AppendRequest.events(StreamId.of("Poison", id), ExpectedSequence.noStream(), "cmd-" + id,
                    List.of(new EventData(UUID.randomUUID().toString(), "Thing", payload, metadata, Instant.now(), 0)));
        }
    }

    @Nested
    class OnPostgres extends OnDatabase {
        @Override
        TestDatabase createDatabase() {
            return TestDatabase.onPostgres();
        }
    }
}
