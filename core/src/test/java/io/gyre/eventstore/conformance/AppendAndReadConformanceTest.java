package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.json;
import static io.gyre.eventstore.conformance.Events.numberOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.gyre.GyreTransientException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.serialization.SerializedValue;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every event store must do when appending and reading one aggregate's stream. A store runs it with a
 * subclass of a few lines that returns its {@link EventStoreFixture}.
 */
public abstract class AppendAndReadConformanceTest {

    private EventStoreFixture fixture;
    /** The store under test, fresh for each test. */
    protected EventStore store;

    /** @return a fixture with a fresh, empty store */
    protected abstract EventStoreFixture createFixture();

    @BeforeEach
    void openStore() {
        fixture = createFixture();
        store = fixture.store();
    }

    @AfterEach
    void closeStore() {
        fixture.close();
    }

    private List<StoredEvent> read(String aggregateId, long fromSequence) {
        try (Stream<StoredEvent> events = store.readStream(aggregateId, fromSequence)) {
            return events.toList();
        }
    }

    @Test
    void a_new_stream_is_numbered_from_zero_and_read_back_with_every_field() {
        AppendRequest request = append("acc-1", ExpectedSequence.noStream(), "cmd-1", 10, 11, 12);
        AppendResult result = store.append(request);

        assertThat(result).isEqualTo(new AppendResult(0, 2));
        List<StoredEvent> events = read("acc-1", 0);
        assertThat(events).extracting(StoredEvent::sequence).containsExactly(0L, 1L, 2L);
        for (int i = 0; i < 3; i++) {
            StoredEvent stored = events.get(i);
            EventData sent = request.events().get(i);
            assertThat(stored.aggregateType()).isEqualTo("Conformance");
            assertThat(stored.aggregateId()).isEqualTo("acc-1");
            assertThat(stored.eventId()).isEqualTo(sent.eventId());
            assertThat(stored.commandId()).isEqualTo("cmd-1");
            assertThat(stored.type()).isEqualTo("Numbered");
            assertThat(json(stored.payload())).isEqualTo(json(sent.payload()));
            assertThat(json(stored.metadata())).isEqualTo(json(sent.metadata()));
            assertThat(Events.truncated(stored.timestamp())).isEqualTo(Events.WHEN);
        }
        assertThat(events).extracting(StoredEvent::position).isSorted().doesNotHaveDuplicates();
        assertThat(store.lastSequence("acc-1")).isEqualTo(2);
    }

    @Test
    void an_append_with_the_last_sequence_continues_the_stream() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2));
        AppendResult result = store.append(append("acc-1", ExpectedSequence.exactly(1), "cmd-2", 3));
        assertThat(result).isEqualTo(new AppendResult(2, 2));
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L, 3L);
        assertThat(read("acc-1", 0)).extracting(StoredEvent::commandId).containsExactly("cmd-1", "cmd-1", "cmd-2");
    }

    @Test
    void no_stream_on_an_existing_stream_conflicts_naming_the_actual_sequence() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2));
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-2", 3)))
                .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                    assertThat(conflict.aggregateId()).isEqualTo("acc-1");
                    assertThat(conflict.expectedSequence()).isEqualTo(-1);
                    assertThat(conflict.actualSequence()).isEqualTo(1);
                    assertThat(GyreTransientException.isCauseOf(conflict)).isTrue();
                });
        assertThat(read("acc-1", 0)).hasSize(2);
    }

    @Test
    void a_stale_expected_sequence_conflicts_and_writes_nothing() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2, 3));
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(0), "cmd-2", 4, 5)))
                .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                    assertThat(conflict.expectedSequence()).isEqualTo(0);
                    assertThat(conflict.actualSequence()).isEqualTo(2);
                });
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L, 3L);
    }

    @Test
    void an_expected_sequence_beyond_the_end_conflicts_instead_of_leaving_a_gap() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1));
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(5), "cmd-2", 2)))
                .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                    assertThat(conflict.expectedSequence()).isEqualTo(5);
                    assertThat(conflict.actualSequence()).isEqualTo(0);
                });
        assertThatThrownBy(() -> store.append(append("nobody", ExpectedSequence.exactly(0), "cmd-3", 1)))
                .isInstanceOf(ConcurrencyConflictException.class);
        assertThat(read("acc-1", 0)).hasSize(1);
        assertThat(read("nobody", 0)).isEmpty();
    }

    @Test
    void any_appends_after_whatever_is_stored() {
        assertThat(store.append(append("acc-1", ExpectedSequence.any(), "cmd-1", 1))).isEqualTo(new AppendResult(0, 0));
        assertThat(store.append(append("acc-1", ExpectedSequence.any(), "cmd-2", 2, 3)))
                .isEqualTo(new AppendResult(1, 2));
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L, 3L);
    }

    @Test
    void writers_racing_on_one_expected_sequence_exactly_one_wins_and_every_other_gets_a_precise_conflict()
            throws Exception {
        store.append(append("hot", ExpectedSequence.noStream(), "create", 0));
        int writers = 8;
        CyclicBarrier start = new CyclicBarrier(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<Object>> outcomes = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            long n = 100 + w;
            outcomes.add(pool.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                try {
                    return store.append(append("hot", ExpectedSequence.exactly(0), "writer-" + n, n, n));
                } catch (ConcurrencyConflictException conflict) {
                    return conflict;
                }
            }));
        }
        List<Object> results = new ArrayList<>();
        for (Future<Object> outcome : outcomes) {
            results.add(outcome.get(30, TimeUnit.SECONDS));
        }
        pool.shutdown();

        assertThat(results).filteredOn(AppendResult.class::isInstance).containsExactly(new AppendResult(1, 2));
        assertThat(results).filteredOn(ConcurrencyConflictException.class::isInstance).hasSize(writers - 1)
                .allSatisfy(result -> {
                    ConcurrencyConflictException conflict = (ConcurrencyConflictException) result;
                    assertThat(conflict.aggregateId()).isEqualTo("hot");
                    assertThat(conflict.expectedSequence()).isZero();
                    assertThat(conflict.actualSequence()).isEqualTo(2);
                });
        List<StoredEvent> stream = read("hot", 0);
        assertThat(stream).extracting(StoredEvent::sequence).containsExactly(0L, 1L, 2L);
        assertThat(stream.get(1).commandId()).isEqualTo(stream.get(2).commandId());
    }

    @Test
    void reading_from_a_sequence_skips_the_earlier_events() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 0, 1, 2, 3, 4));
        assertThat(read("acc-1", 3)).extracting(StoredEvent::sequence).containsExactly(3L, 4L);
        assertThat(read("acc-1", 5)).isEmpty();
    }

    @Test
    void an_unknown_aggregate_has_an_empty_stream() {
        assertThat(read("nobody", 0)).isEmpty();
        assertThat(store.lastSequence("nobody")).isEqualTo(-1);
    }

    @Test
    void streams_of_different_aggregates_do_not_mix() {
        store.append(append("a", ExpectedSequence.noStream(), "cmd-a", 1));
        store.append(append("b", ExpectedSequence.noStream(), "cmd-b", 2));
        store.append(append("a", ExpectedSequence.exactly(0), "cmd-a2", 3));
        assertThat(read("a", 0)).extracting(Events::numberOf).containsExactly(1L, 3L);
        assertThat(read("b", 0)).extracting(Events::numberOf).containsExactly(2L);
    }

    @Test
    void a_long_stream_reads_back_complete_and_in_order() {
        long expected = -1;
        for (int chunk = 0; chunk < 25; chunk++) {
            long[] numbers = LongStream.range(chunk * 100L, chunk * 100L + 100).toArray();
            store.append(append("long", ExpectedSequence.exactly(expected), "cmd-" + chunk, numbers));
            expected += 100;
        }
        long sequence = 0;
        try (Stream<StoredEvent> events = store.readStream("long", 0)) {
            Iterator<StoredEvent> iterator = events.iterator();
            while (iterator.hasNext()) {
                StoredEvent event = iterator.next();
                assertThat(event.sequence()).isEqualTo(sequence);
                assertThat(numberOf(event)).isEqualTo(sequence);
                sequence++;
            }
        }
        assertThat(sequence).isEqualTo(2_500);
    }

    @Test
    void a_stream_closed_before_its_end_releases_what_it_holds() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", LongStream.range(0, 50).toArray()));
        for (int i = 0; i < 200; i++) {
            try (Stream<StoredEvent> events = store.readStream("acc-1", 0)) {
                assertThat(events.findFirst()).isPresent();
            }
        }
        assertThat(store.lastSequence("acc-1")).isEqualTo(49);
    }

    @Test
    void unicode_payloads_survive() {
        EventData event = new EventData("e-1", "Named", "{\"name\":\"Zoë 🚀 日本語 \\\"quoted\\\"\"}",
                "{\"who\":\"Ŝ\"}", Events.WHEN);
        store.append(new AppendRequest("Conformance", "ü-1", ExpectedSequence.noStream(), "cmd-ü", List.of(event)));
        StoredEvent stored = read("ü-1", 0).get(0);
        assertThat(json(stored.payload())).isEqualTo(json(event.payload()));
        assertThat(json(stored.metadata())).isEqualTo(json(event.metadata()));
        assertThat(stored.commandId()).isEqualTo("cmd-ü");
    }

    @Test
    void bad_arguments_are_refused() {
        assertThatThrownBy(() -> store.readStream("a", -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> store.append(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void a_command_is_found_by_its_id_with_the_range_of_its_events_and_its_result() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1));
        SerializedValue result = new SerializedValue("java.lang.Long", "42");
        store.append(new AppendRequest("Conformance", "acc-1", ExpectedSequence.exactly(0), "cmd-2",
                List.of(Events.event(2), Events.event(3), Events.event(4)), result));

        assertThat(store.findCommand("acc-1", "cmd-2"))
                .contains(new CommandRecord("acc-1", "cmd-2", 1, 3, result));
        assertThat(store.findCommand("acc-1", "cmd-1")).contains(new CommandRecord("acc-1", "cmd-1", 0, 0, null));
        assertThat(store.findCommand("acc-1", "cmd-unknown")).isEmpty();
        assertThat(store.findCommand("acc-other", "cmd-2")).as("scoped to the aggregate").isEmpty();
    }

    @Test
    void a_command_is_stored_at_most_once_per_aggregate_whatever_sequence_its_second_attempt_expects() {
        SerializedValue result = new SerializedValue("java.lang.Long", "7");
        store.append(new AppendRequest("Conformance", "acc-1", ExpectedSequence.noStream(), "cmd-1",
                List.of(Events.event(1), Events.event(2)), result));
        store.append(append("acc-1", ExpectedSequence.exactly(1), "cmd-2", 3));

        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(2), "cmd-1", 4)))
                .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate ->
                        assertThat(duplicate.stored()).isEqualTo(new CommandRecord("acc-1", "cmd-1", 0, 1, result)))
                .hasMessageContaining("cmd-1");
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(0), "cmd-1", 4)))
                .as("duplicate reported before the stale sequence")
                .isInstanceOf(DuplicateCommandException.class);
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L, 3L);
        assertThat(store.append(append("acc-2", ExpectedSequence.noStream(), "cmd-1", 5)))
                .as("the same command id on another aggregate").isEqualTo(new AppendResult(0, 0));
    }

    @Test
    void a_conflicting_append_stores_no_command_record() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1));
        assertThatThrownBy(() -> store.append(new AppendRequest("Conformance", "acc-1", ExpectedSequence.noStream(),
                "cmd-2", List.of(Events.event(2)), new SerializedValue("java.lang.String", "\"x\""))))
                .isInstanceOf(ConcurrencyConflictException.class);
        assertThat(store.findCommand("acc-1", "cmd-2")).isEmpty();
    }

    @Test
    void everything_is_still_there_after_a_restart() {
        assumeThat(fixture.durable()).as("store keeps events across restarts").isTrue();
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2));
        store.append(append("acc-2", ExpectedSequence.noStream(), "cmd-2", 3));
        store = fixture.reopen();
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L);
        assertThat(read("acc-2", 0)).extracting(Events::numberOf).containsExactly(3L);
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(0), "cmd-3", 9)))
                .isInstanceOf(ConcurrencyConflictException.class);
        assertThat(store.append(append("acc-1", ExpectedSequence.exactly(1), "cmd-3", 4)))
                .isEqualTo(new AppendResult(2, 2));
    }
}
