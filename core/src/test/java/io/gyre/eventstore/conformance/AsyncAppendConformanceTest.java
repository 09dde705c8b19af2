package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every event store must do when appending asynchronously ({@link EventStore#appendAsync}): the same outcome
 * as {@link EventStore#append}, delivered in the future and never thrown, also with many appends in flight from one
 * thread. A store runs it with a subclass of a few lines that returns its {@link EventStoreFixture}.
 */
public abstract class AsyncAppendConformanceTest {

    private static final long TIMEOUT_SECONDS = 30;

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

    private List<Long> numbers(String aggregateId) {
        try (Stream<StoredEvent> events = store.readStream(stream(aggregateId), 0)) {
            return events.map(Events::numberOf).toList();
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void an_async_append_completes_with_the_sequence_numbers_an_append_would_return() throws Exception {
        AppendResult first = await(store.appendAsync(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2)));
        AppendResult second = await(store.appendAsync(append("acc-1", ExpectedSequence.exactly(1), "cmd-2", 3)));

        assertThat(first).isEqualTo(new AppendResult(0, 1));
        assertThat(second).isEqualTo(new AppendResult(2, 2));
        assertThat(numbers("acc-1")).containsExactly(1L, 2L, 3L);
        assertThat(store.lastSequence(stream("acc-1"))).isEqualTo(2);
    }

    @Test
    void a_conflict_fails_the_future_with_the_very_exception_an_append_throws_and_is_never_thrown()
            throws Exception {
        await(store.appendAsync(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1, 2)));

        CompletableFuture<AppendResult> stale = store.appendAsync(append("acc-1", ExpectedSequence.exactly(0),
                "cmd-2", 3));

        assertThatThrownBy(() -> await(stale)).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                    assertThat(conflict.expectedSequence()).isEqualTo(0);
                    assertThat(conflict.actualSequence()).isEqualTo(1);
                });
        assertThat(numbers("acc-1")).containsExactly(1L, 2L);
    }

    @Test
    void a_decided_command_id_fails_the_future_with_the_stored_decision() throws Exception {
        await(store.appendAsync(append("acc-1", ExpectedSequence.noStream(), "cmd-1", 1)));

        CompletableFuture<AppendResult> again = store.appendAsync(append("acc-1", ExpectedSequence.exactly(0),
                "cmd-1", 2));

        assertThatThrownBy(() -> await(again)).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored().commandId()).isEqualTo("cmd-1"));
        assertThat(numbers("acc-1")).containsExactly(1L);
    }

    @Test
    void many_appends_in_flight_from_one_thread_each_get_their_own_outcome() throws Exception {
        int streams = 200;
        List<CompletableFuture<AppendResult>> created = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            created.add(store.appendAsync(append("acc-" + i, ExpectedSequence.noStream(), "create-" + i, i)));
        }
        for (CompletableFuture<AppendResult> each : created) {
            assertThat(await(each)).isEqualTo(new AppendResult(0, 0));
        }
        // Every other stream gets a stale expectation in the same burst: those fail alone, the others are stored.
        List<CompletableFuture<AppendResult>> next = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            ExpectedSequence expected = i % 2 == 0 ? ExpectedSequence.exactly(0) : ExpectedSequence.noStream();
            next.add(store.appendAsync(append("acc-" + i, expected, "next-" + i, 1_000 + i)));
        }
        for (int i = 0; i < streams; i++) {
            CompletableFuture<AppendResult> each = next.get(i);
            if (i % 2 == 0) {
                assertThat(await(each)).isEqualTo(new AppendResult(1, 1));
                assertThat(numbers("acc-" + i)).containsExactly((long) i, 1_000L + i);
            } else {
                assertThatThrownBy(() -> await(each)).cause().isInstanceOf(ConcurrencyConflictException.class);
                assertThat(numbers("acc-" + i)).containsExactly((long) i);
            }
        }
        StreamId last = stream("acc-" + (streams - 2));
        assertThat(store.lastSequence(last)).isEqualTo(1);
    }
}
