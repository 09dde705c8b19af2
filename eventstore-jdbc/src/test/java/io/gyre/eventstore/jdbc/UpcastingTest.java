package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.Gyre;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.processing.EventHandler;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import io.gyre.serialization.UpcastingException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events stored at older revisions of their class ({@link Ledger.Deposited} is at revision 2) are upcast when read,
 * in order of revision, both when an aggregate loads and when an event processor reads the global log; an upcaster
 * whose output does not fit the class fails the read with an error naming the event type and revision.
 */
class UpcastingTest {

    private static final StreamId LEDGER = StreamId.of("Ledger", "ledger-1");

    abstract static class Scenario {

        private TestDatabase database;
        private JdbcEventStore store;

        abstract TestDatabase open();

        @BeforeEach
        void start() {
            database = open();
            store = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                    .build();
            // As three versions of the application wrote them: 1.50 as a decimal string (revision 0), 2.50 in cents
            // (revision 1), 1.00 in cents with a currency (revision 2, the current one).
            store.append(AppendRequest.events(LEDGER, ExpectedSequence.noStream(), "old-commands", List.of(
                    event("ledger.Opened", "{\"id\":\"ledger-1\"}", 0),
                    event("ledger.Deposited", "{\"id\":\"ledger-1\",\"amount\":\"1.50\"}", 0),
                    event("ledger.Deposited", "{\"id\":\"ledger-1\",\"cents\":250}", 1),
                    event("ledger.Deposited", "{\"id\":\"ledger-1\",\"cents\":100,\"currency\":\"USD\"}", 2))));
        }

        @AfterEach
        void close() {
            store.close();
            database.close();
        }

        @Test
        void events_are_stored_with_the_revision_of_their_class() {
            try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Ledger.class)
                    .upcaster(Ledger.Deposited.class, 0, UpcastingTest::toCents)
                    .upcaster(Ledger.Deposited.class, 1, UpcastingTest::addCurrency).start()) {
                node.commandGateway().sendAndWait(new Ledger.Open("ledger-2"));
                node.commandGateway().sendAndWait(new Ledger.Deposit("ledger-2", 5));
            }
            try (Stream<StoredEvent> events = store.readStream(StreamId.of("Ledger", "ledger-2"))) {
                assertThat(events.map(StoredEvent::revision)).containsExactly(0, 2);
            }
        }

        @Test
        void older_events_are_upcast_in_order_of_revision_when_an_aggregate_loads_and_when_a_processor_reads_them() {
            Deposits deposits = new Deposits();
            try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Ledger.class)
                    .processing(ProcessingSettings.builder().tokenStore(new InMemoryTokenStore()).build())
                    .processor(TrackingProcessor.named("deposits").pollInterval(Duration.ofMillis(20))
                            .handlers(deposits))
                    
                    .upcaster(Ledger.Deposited.class, 0, UpcastingTest::toCents)
                    .upcaster(Ledger.Deposited.class, 1, UpcastingTest::addCurrency).start()) {
                assertThat(node.commandGateway().<Long>sendAndWait(new Ledger.Balance("ledger-1"))).isEqualTo(500);
                deposits.awaitCount(3);
            }
            assertThat(deposits.seen).containsExactly(new Ledger.Deposited("ledger-1", 150, "EUR"),
                    new Ledger.Deposited("ledger-1", 250, "EUR"), new Ledger.Deposited("ledger-1", 100, "USD"));
        }

        @Test
        void a_broken_upcaster_fails_the_load_with_an_error_naming_the_event_type_and_revision() {
            try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Ledger.class)
                    .upcaster(Ledger.Deposited.class, 0, json -> {
                        json.remove("amount");
                        return json.put("cents", "one fifty");
                    })
                    .upcaster(Ledger.Deposited.class, 1, UpcastingTest::addCurrency)
                    .start()) {
                assertThatThrownBy(() -> node.commandGateway().sendAndWait(new Ledger.Balance("ledger-1")))
                        .isInstanceOfSatisfying(UpcastingException.class, e -> {
                            assertThat(e.typeName()).isEqualTo("ledger.Deposited");
                            assertThat(e.revision()).isZero();
                        })
                        .hasMessageContaining("Event type 'ledger.Deposited'")
                        .hasMessageContaining("stored at revision 0")
                        .hasMessageContaining("cannot be read as " + Ledger.Deposited.class.getName());
            }
        }

        @Test
        void an_event_without_an_upcaster_for_its_revision_fails_with_an_error_naming_the_missing_one() {
            try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Ledger.class)
                    .upcaster(Ledger.Deposited.class, 1, UpcastingTest::addCurrency).start()) {
                assertThatThrownBy(() -> node.commandGateway().sendAndWait(new Ledger.Balance("ledger-1")))
                        .isInstanceOf(UpcastingException.class)
                        .hasMessageContaining("needs an upcaster from revision 0 to 1")
                        .hasMessageContaining(".upcaster(Deposited.class, 0, json -> ...)");
            }
        }
    }

    /** A processor that keeps the deposits it sees. */
    public static final class Deposits {
        final List<Ledger.Deposited> seen = new CopyOnWriteArrayList<>();

        @EventHandler
        public void on(Ledger.Deposited deposited) {
            seen.add(deposited);
        }

        void awaitCount(int count) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < count) {
                assertThat(System.nanoTime()).as("%d deposits processed within 30 s", count).isLessThan(deadline);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** Revision 0 to 1: the decimal string "amount" became "cents". */
    private static ObjectNode toCents(ObjectNode json) {
        return json.put("cents", new BigDecimal(json.remove("amount").asText()).movePointRight(2).longValueExact());
    }

    /** Revision 1 to 2: a currency, EUR before. Refuses JSON that revision 1 never had, so order shows. */
    private static ObjectNode addCurrency(ObjectNode json) {
        if (!json.has("cents") || json.has("amount")) {
            throw new IllegalStateException("not revision 1: " + json);
        }
        return json.put("currency", "EUR");
    }

    private static EventData event(String type, String json, int revision) {
        return new EventData("old-" + type + "-" + json.hashCode() + "-" + revision, type, json, "{}",
                Instant.parse("2020-01-01T00:00:00Z"), revision);
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;

        @Override
        TestDatabase open() {
            return TestDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        @Override
        TestDatabase open() {
            return TestDatabase.onPostgres();
        }
    }
}
