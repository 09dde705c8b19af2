package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.json;
import static io.gyre.eventstore.conformance.Events.numberOf;
import static io.gyre.eventstore.conformance.Events.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreTransientException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
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
        return read(stream(aggregateId), fromSequence);
    }

    private List<StoredEvent> read(StreamId stream, long fromSequence) {
        try (Stream<StoredEvent> events = store.readStream(stream, fromSequence)) {
            return events.toList();
        }
    }

    @Test
    void each_event_keeps_the_revision_of_its_class_for_its_readers_to_upcast() {
        StreamId stream = stream("acc-revisions");
        List<EventData> events = new ArrayList<>();
        for (int revision : new int[] {0, 3, 1}) {
            EventData event = Events.event(revision);
            events.add(new EventData(event.eventId(), event.type(), event.payload(), event.metadata(),
                    event.timestamp(), revision));
        }
        store.append(AppendRequest.events(stream, ExpectedSequence.noStream(), "cmd-revisions", events));

        assertThat(read(stream, 0)).extracting(StoredEvent::revision).containsExactly(0, 3, 1);
        assertThat(store.readAll(TrackingToken.START, 10)).extracting(tracked -> tracked.event().revision())
                .containsExactly(0, 3, 1);
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
        assertThat(store.lastSequence(stream("acc-1"))).isEqualTo(2);
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
                    assertThat(conflict.stream()).isEqualTo(stream("acc-1"));
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
                    assertThat(conflict.stream()).isEqualTo(stream("hot"));
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
        assertThat(store.lastSequence(stream("nobody"))).isEqualTo(-1);
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
        try (Stream<StoredEvent> events = store.readStream(stream("long"), 0)) {
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
            try (Stream<StoredEvent> events = store.readStream(stream("acc-1"), 0)) {
                assertThat(events.findFirst()).isPresent();
            }
        }
        assertThat(store.lastSequence(stream("acc-1"))).isEqualTo(49);
    }

    @Test
    void unicode_payloads_survive() {
        EventData event = new EventData("e-1", "Named", "{\"name\":\"Zoë 🚀 日本語 \\\"quoted\\\"\"}",
                "{\"who\":\"Ŝ\"}", Events.WHEN);
        store.append(AppendRequest.events(stream("ü-1"), ExpectedSequence.noStream(), "cmd-ü", List.of(event)));
        StoredEvent stored = read("ü-1", 0).get(0);
        assertThat(json(stored.payload())).isEqualTo(json(event.payload()));
        assertThat(json(stored.metadata())).isEqualTo(json(event.metadata()));
        assertThat(stored.commandId()).isEqualTo("cmd-ü");
    }

    @Test
    void bad_arguments_are_refused() {
        assertThatThrownBy(() -> store.readStream(stream("a"), -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> store.append(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> store.readStream(null, 0)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> store.lastSequence(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> store.findCommand(stream("a"), null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> store.findCommand(null, "cmd")).isInstanceOf(NullPointerException.class);
    }

    @Test
    void a_command_is_found_by_its_id_with_the_range_of_its_events_and_its_result() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1));
        SerializedValue value = new SerializedValue("java.lang.Long", "42");
        store.append(new AppendRequest(stream("acc-1"), ExpectedSequence.exactly(0), "cmd-2",
                Events.events(2, 3, 4), CommandOutcome.Result.of(value)));

        assertThat(store.findCommand(stream("acc-1"), "cmd-2"))
                .contains(new CommandRecord(stream("acc-1"), "cmd-2", 0, 3, CommandOutcome.Result.of(value)));
        assertThat(store.findCommand(stream("acc-1"), "cmd-2")).get()
                .satisfies(record -> {
                    assertThat(record.firstSequence()).isEqualTo(1);
                    assertThat(record.lastSequence()).isEqualTo(3);
                });
        assertThat(store.findCommand(stream("acc-1"), "cmd-1"))
                .contains(new CommandRecord(stream("acc-1"), "cmd-1", -1, 1, CommandOutcome.Result.of(null)));
        assertThat(store.findCommand(stream("acc-1"), "cmd-unknown")).isEmpty();
        assertThat(store.findCommand(stream("acc-other"), "cmd-2")).as("scoped to the aggregate").isEmpty();
        assertThat(store.findCommand(StreamId.of("OtherType", "acc-1"), "cmd-2")).as("scoped to the type")
                .isEmpty();
    }

    @Test
    void a_command_is_stored_at_most_once_per_aggregate_whatever_sequence_its_second_attempt_expects() {
        SerializedValue value = new SerializedValue("java.lang.Long", "7");
        store.append(new AppendRequest(stream("acc-1"), ExpectedSequence.noStream(), "cmd-1",
                Events.events(1, 2), CommandOutcome.Result.of(value)));
        store.append(append("acc-1", ExpectedSequence.exactly(1), "cmd-2", 3));

        CommandRecord first = new CommandRecord(stream("acc-1"), "cmd-1", -1, 2, CommandOutcome.Result.of(value));
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(2), "cmd-1", 4)))
                .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate ->
                        assertThat(duplicate.stored()).isEqualTo(first))
                .hasMessageContaining("cmd-1");
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(0), "cmd-1", 4)))
                .as("duplicate reported before the stale sequence")
                .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate ->
                        assertThat(duplicate.stored()).isEqualTo(first));
        assertThatThrownBy(() -> store.append(append("acc-1", ExpectedSequence.exactly(9), "cmd-1", 4)))
                .as("duplicate reported before the sequence beyond the stream")
                .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate ->
                        assertThat(duplicate.stored()).isEqualTo(first));
        assertThat(read("acc-1", 0)).extracting(Events::numberOf).containsExactly(1L, 2L, 3L);
        assertThat(store.append(append("acc-2", ExpectedSequence.noStream(), "cmd-1", 5)))
                .as("the same command id on another aggregate").isEqualTo(new AppendResult(0, 0));
    }

    @Test
    void a_conflicting_append_stores_no_command_record() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1));
        assertThatThrownBy(() -> store.append(new AppendRequest(stream("acc-1"), ExpectedSequence.noStream(),
                "cmd-2", Events.events(2), CommandOutcome.Result.of(new SerializedValue("java.lang.String",
                "\"x\"")))))
                .isInstanceOf(ConcurrencyConflictException.class);
        assertThat(store.findCommand(stream("acc-1"), "cmd-2")).isEmpty();
    }

    @Test
    void two_aggregate_types_with_the_same_id_have_separate_streams_sequences_and_command_keys() {
        StreamId account = StreamId.of("Account", "shared-7");
        StreamId order = StreamId.of("Order", "shared-7");
        assertThat(store.append(append(account, ExpectedSequence.noStream(), "cmd-1", 1, 2)))
                .isEqualTo(new AppendResult(0, 1));
        assertThat(store.append(append(order, ExpectedSequence.noStream(), "cmd-1", 10)))
                .as("same id and command id, other type: a stream of its own from sequence 0")
                .isEqualTo(new AppendResult(0, 0));
        assertThat(store.append(append(order, ExpectedSequence.exactly(0), "cmd-2", 11)))
                .isEqualTo(new AppendResult(1, 1));
        assertThatThrownBy(() -> store.append(append(account, ExpectedSequence.exactly(0), "cmd-3", 3)))
                .as("the account's own head counts, not the order's")
                .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                    assertThat(conflict.stream()).isEqualTo(account);
                    assertThat(conflict.actualSequence()).isEqualTo(1);
                });

        assertThat(read(account, 0)).extracting(Events::numberOf).containsExactly(1L, 2L);
        assertThat(read(account, 0)).extracting(StoredEvent::aggregateType).containsOnly("Account");
        assertThat(read(order, 0)).extracting(Events::numberOf).containsExactly(10L, 11L);
        assertThat(read(order, 0)).extracting(StoredEvent::stream).containsOnly(order);
        assertThat(store.lastSequence(account)).isEqualTo(1);
        assertThat(store.lastSequence(order)).isEqualTo(1);
        assertThat(store.lastSequence(StreamId.of("Nobody", "shared-7"))).isEqualTo(-1);
        assertThat(store.findCommand(account, "cmd-1")).get().extracting(CommandRecord::eventCount).isEqualTo(2);
        assertThat(store.findCommand(order, "cmd-1")).get().extracting(CommandRecord::eventCount).isEqualTo(1);
        assertThat(store.findCommand(account, "cmd-2")).isEmpty();
        assertThat(store.readAll(TrackingToken.START, 100)).extracting(tracked -> tracked.event().aggregateType())
                .as("the global log holds both types").containsExactly("Account", "Account", "Order", "Order");
    }

    @Test
    void everything_is_still_there_after_a_restart() {
        if (!fixture.durable()) {
            assertThatThrownBy(fixture::reopen).as("a store that keeps nothing cannot be reopened")
                    .isInstanceOf(UnsupportedOperationException.class);
            return;
        }
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
