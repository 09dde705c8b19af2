package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.noChange;
import static io.gyre.eventstore.conformance.Events.refusal;
import static io.gyre.eventstore.conformance.Events.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.serialization.SerializedValue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every event store must do with a command's decision: the first decision on a command id is final, whether
 * it stored events or none (a refusal, or a result that changed nothing), and a decision without events is kept
 * only if the stream has not moved since it was made. A store runs it with a subclass of a few lines that returns
 * its {@link EventStoreFixture}.
 */
public abstract class CommandDecisionsConformanceTest {

    private static final String REFUSAL_TYPE = "com.example.InsufficientFunds";

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

    private List<StoredEvent> read(StreamId stream) {
        try (Stream<StoredEvent> events = store.readStream(stream)) {
            return events.toList();
        }
    }

    private static CommandOutcome.Refusal refused(String message) {
        return new CommandOutcome.Refusal(REFUSAL_TYPE, message);
    }

    /** A conflict names the stream and the expected sequence, and the actual one unless the store cannot tell. */
    private static void assertConflict(Throwable thrown, StreamId stream, long expected, long actual) {
        assertThat(thrown).isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
            assertThat(conflict.stream()).isEqualTo(stream);
            assertThat(conflict.expectedSequence()).isEqualTo(expected);
            assertThat(conflict.actualSequence()).isIn(actual, ConcurrencyConflictException.UNKNOWN);
        });
    }

    @Test
    void a_refusal_is_recorded_without_events_and_found_by_its_command_id() {
        StreamId account = stream("acc-1");
        store.append(append(account, ExpectedSequence.noStream(), "open", 1));

        AppendResult result = store.append(refusal(account, ExpectedSequence.exactly(0), "withdraw-1",
                "balance 0 is below 30"));

        assertThat(result).isEqualTo(new AppendResult(1, 0));
        assertThat(result.eventCount()).isZero();
        assertThat(store.findCommand(account, "withdraw-1")).contains(new CommandRecord(account, "withdraw-1", 0, 0,
                refused("balance 0 is below 30")));
        assertThat(read(account)).extracting(StoredEvent::commandId).containsExactly("open");
        assertThat(store.lastSequence(account)).isZero();
        assertThat(store.readAll(TrackingToken.START, 10)).as("a decision without events is not in the global log")
                .hasSize(1);
        assertThat(store.append(append(account, ExpectedSequence.exactly(0), "deposit-1", 2)))
                .as("the stream goes on where it was").isEqualTo(new AppendResult(1, 1));
    }

    @Test
    void a_result_without_events_is_recorded_with_its_value_also_on_a_stream_that_does_not_exist() {
        SerializedValue balance = new SerializedValue("java.lang.Long", "0");
        StreamId fresh = stream("fresh");

        assertThat(store.append(noChange(fresh, ExpectedSequence.noStream(), "query-1", balance)))
                .isEqualTo(new AppendResult(0, -1));
        assertThat(store.findCommand(fresh, "query-1")).contains(new CommandRecord(fresh, "query-1", -1, 0,
                CommandOutcome.Result.of(balance)));
        assertThat(store.lastSequence(fresh)).as("no event, no stream").isEqualTo(-1);
        assertThat(read(fresh)).isEmpty();

        store.append(append(fresh, ExpectedSequence.noStream(), "open", 1, 2));
        assertThat(store.append(noChange(fresh, ExpectedSequence.exactly(1), "touch", null)))
                .isEqualTo(new AppendResult(2, 1));
        assertThat(store.findCommand(fresh, "touch")).contains(new CommandRecord(fresh, "touch", 1, 0,
                CommandOutcome.Result.of(null)));
        assertThat(read(fresh)).hasSize(2);
    }

    @Test
    void a_decision_on_a_stream_that_moved_past_it_conflicts_and_stores_nothing() {
        StreamId account = stream("acc-1");
        store.append(append(account, ExpectedSequence.noStream(), "open", 1, 2, 3));

        Throwable stale = catchThrowable(() -> store.append(refusal(account, ExpectedSequence.exactly(1), "cmd-1",
                "no")));
        assertConflict(stale, account, 1, 2);
        Throwable noStream = catchThrowable(() -> store.append(noChange(account, ExpectedSequence.noStream(),
                "cmd-1", null)));
        assertConflict(noStream, account, -1, 2);

        assertThat(store.findCommand(account, "cmd-1")).as("nothing stored under the command id").isEmpty();
        assertThat(store.append(refusal(account, ExpectedSequence.exactly(2), "cmd-1", "no, on fresh state")))
                .as("the command decided again on fresh state is stored").isEqualTo(new AppendResult(3, 2));
        assertThat(store.findCommand(account, "cmd-1")).get().extracting(CommandRecord::outcome)
                .isEqualTo(refused("no, on fresh state"));
    }

    @Test
    void a_decision_on_a_sequence_beyond_the_stream_conflicts_and_stores_nothing() {
        StreamId account = stream("acc-1");
        store.append(append(account, ExpectedSequence.noStream(), "open", 1));

        assertConflict(catchThrowable(() -> store.append(refusal(account, ExpectedSequence.exactly(5), "cmd-1",
                "no"))), account, 5, 0);
        assertConflict(catchThrowable(() -> store.append(noChange(account, ExpectedSequence.exactly(1), "cmd-2",
                null))), account, 1, 0);
        StreamId nobody = stream("nobody");
        assertConflict(catchThrowable(() -> store.append(refusal(nobody, ExpectedSequence.exactly(0), "cmd-3",
                "no"))), nobody, 0, -1);

        assertThat(store.findCommand(account, "cmd-1")).isEmpty();
        assertThat(store.findCommand(account, "cmd-2")).isEmpty();
        assertThat(store.findCommand(nobody, "cmd-3")).isEmpty();
        assertThat(store.lastSequence(nobody)).isEqualTo(-1);
        assertThat(store.lastSequence(account)).isZero();
    }

    @Test
    void events_after_a_refusal_of_the_same_command_are_refused_with_the_refusal_and_not_stored() {
        StreamId account = stream("acc-1");
        store.append(append(account, ExpectedSequence.noStream(), "open", 1));
        store.append(refusal(account, ExpectedSequence.exactly(0), "withdraw", "balance too low"));
        CommandRecord first = new CommandRecord(account, "withdraw", 0, 0, refused("balance too low"));

        assertThatThrownBy(() -> store.append(append(account, ExpectedSequence.exactly(0), "withdraw", 2)))
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first))
                .hasMessageContaining("withdraw");
        assertThat(read(account)).extracting(Events::numberOf).containsExactly(1L);
        assertThat(store.findCommand(account, "withdraw")).contains(first);
    }

    @Test
    void a_refusal_after_events_of_the_same_command_is_refused_with_the_result_and_not_stored() {
        StreamId account = stream("acc-1");
        SerializedValue value = new SerializedValue("java.lang.Long", "70");
        store.append(append(account, ExpectedSequence.noStream(), "open", 1));
        store.append(new AppendRequest(account, ExpectedSequence.exactly(0), "withdraw", Events.events(2),
                CommandOutcome.Result.of(value)));
        CommandRecord first = new CommandRecord(account, "withdraw", 0, 1, CommandOutcome.Result.of(value));

        assertThatThrownBy(() -> store.append(refusal(account, ExpectedSequence.exactly(0), "withdraw", "late")))
                .as("decided on the head the first delivery saw")
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first));
        assertThatThrownBy(() -> store.append(refusal(account, ExpectedSequence.exactly(1), "withdraw", "later")))
                .as("decided on the head after it")
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first));
        assertThat(read(account)).extracting(Events::numberOf).containsExactly(1L, 2L);
        assertThat(store.findCommand(account, "withdraw")).contains(first);
    }

    @Test
    void a_second_decision_without_events_of_the_same_command_gets_the_first_one() {
        StreamId account = stream("acc-1");
        store.append(refusal(account, ExpectedSequence.noStream(), "withdraw", "no account"));
        CommandRecord first = new CommandRecord(account, "withdraw", -1, 0, refused("no account"));

        assertThatThrownBy(() -> store.append(refusal(account, ExpectedSequence.noStream(), "withdraw", "again")))
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first));
        assertThatThrownBy(() -> store.append(noChange(account, ExpectedSequence.noStream(), "withdraw",
                new SerializedValue("java.lang.Long", "1"))))
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first));
        store.append(append(account, ExpectedSequence.noStream(), "open", 1));
        assertThatThrownBy(() -> store.append(refusal(account, ExpectedSequence.noStream(), "withdraw", "stale")))
                .as("a duplicate is reported before the moved stream")
                .isInstanceOfSatisfying(DuplicateCommandException.class,
                        duplicate -> assertThat(duplicate.stored()).isEqualTo(first));
        assertThat(store.findCommand(account, "withdraw")).contains(first);
        assertThat(read(account)).hasSize(1);
    }

    @Test
    void the_same_command_id_on_another_aggregate_or_type_is_another_command() {
        StreamId account = StreamId.of("Account", "x");
        store.append(refusal(account, ExpectedSequence.noStream(), "cmd-1", "no"));
        assertThat(store.append(append(StreamId.of("Order", "x"), ExpectedSequence.noStream(), "cmd-1", 1)))
                .isEqualTo(new AppendResult(0, 0));
        assertThat(store.append(refusal(StreamId.of("Account", "y"), ExpectedSequence.noStream(), "cmd-1", "no")))
                .isEqualTo(new AppendResult(0, -1));
        assertThat(store.findCommand(StreamId.of("Order", "x"), "cmd-1")).get()
                .extracting(CommandRecord::outcome).isEqualTo(CommandOutcome.Result.of(null));
        assertThat(store.findCommand(account, "cmd-1")).get().extracting(CommandRecord::outcome)
                .isEqualTo(refused("no"));
    }

    @Test
    void a_refusal_message_is_kept_whole_up_to_its_limit_in_any_script() {
        StreamId account = stream("acc-1");
        String message = "Zoë 日本語 ".repeat(400);
        CommandOutcome.Refusal refusal = new CommandOutcome.Refusal(REFUSAL_TYPE, message);
        assertThat(refusal.message()).hasSize(CommandOutcome.Refusal.MAX_MESSAGE_LENGTH);
        store.append(new AppendRequest(account, ExpectedSequence.noStream(), "cmd-1", List.of(), refusal));
        store.append(refusal(account, ExpectedSequence.noStream(), "cmd-2", ""));

        assertThat(store.findCommand(account, "cmd-1")).get().extracting(CommandRecord::outcome).isEqualTo(refusal);
        assertThat(store.findCommand(account, "cmd-2")).get().extracting(CommandRecord::outcome)
                .as("an empty message stays empty").isEqualTo(refused(""));
    }

    @Test
    void a_malformed_decision_is_refused_naming_the_problem_before_it_reaches_the_store() {
        StreamId account = stream("acc-1");
        assertThatThrownBy(() -> new AppendRequest(account, ExpectedSequence.noStream(), "cmd", Events.events(1),
                refused("no"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a refused command stores no events, but 1 were given");
        assertThatThrownBy(() -> refusal(account, ExpectedSequence.any(), "cmd", "no"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 'any'");
        assertThatThrownBy(() -> AppendRequest.events(account, ExpectedSequence.noStream(), "cmd", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one event");
        assertThatThrownBy(() -> refusal(account, ExpectedSequence.noStream(), " ", "no"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was 1 characters");
        assertThatThrownBy(() -> refusal(account, ExpectedSequence.noStream(), "c".repeat(256), "no"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was 256 characters");
        assertThatThrownBy(() -> new AppendRequest(account, ExpectedSequence.noStream(), "cmd", List.of(), null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("outcome");
        assertThatThrownBy(() -> StreamId.of("Bad Type!", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'Bad Type!'");
        assertThatThrownBy(() -> StreamId.of("Account", "i".repeat(256)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was 256");
        assertThat(store.readAll(TrackingToken.START, 10)).isEmpty();
        assertThat(store.findCommand(account, "cmd")).isEmpty();
    }

    /**
     * Two deliveries of one command (a re-send after a failover, say) decided on the same head by two nodes: one
     * stored events, the other refused. Whichever commits first decides; the other is told that decision.
     */
    @Test
    void deliveries_of_one_command_racing_with_events_and_with_a_refusal_store_exactly_one_decision()
            throws Exception {
        int aggregates = 8;
        int rounds = 20;
        long[] heads = new long[aggregates];
        int[] eventsWon = new int[aggregates];
        for (int a = 0; a < aggregates; a++) {
            store.append(append("race-" + a, ExpectedSequence.noStream(), "open-" + a, 0));
        }
        List<CommandRecord> winners = new ArrayList<>();
        try (Rendezvous rendezvous = new Rendezvous(2 * aggregates)) {
            for (int r = 0; r < rounds; r++) {
                int round = r;
                List<Callable<?>> writers = new ArrayList<>();
                for (int a = 0; a < aggregates; a++) {
                    StreamId stream = stream("race-" + a);
                    ExpectedSequence head = ExpectedSequence.exactly(heads[a]);
                    String commandId = "cmd-" + round + "-" + a;
                    SerializedValue value = new SerializedValue("java.lang.Integer", Integer.toString(round));
                    writers.add(() -> store.append(new AppendRequest(stream, head, commandId,
                            Events.events(round), CommandOutcome.Result.of(value))));
                    writers.add(() -> store.append(refusal(stream, head, commandId, "refused in round " + round)));
                }
                List<Rendezvous.Outcome> outcomes = rendezvous.race(writers);
                for (int a = 0; a < aggregates; a++) {
                    Rendezvous.Outcome events = outcomes.get(2 * a);
                    Rendezvous.Outcome refusal = outcomes.get(2 * a + 1);
                    StreamId stream = stream("race-" + a);
                    String commandId = "cmd-" + round + "-" + a;
                    assertThat(events.succeeded() ^ refusal.succeeded())
                            .as("round %d, %s: exactly one delivery decides (events %s, refusal %s)", round, stream,
                                    events, refusal).isTrue();
                    CommandRecord expected = events.succeeded()
                            ? new CommandRecord(stream, commandId, heads[a], 1, CommandOutcome.Result.of(
                                    new SerializedValue("java.lang.Integer", Integer.toString(round))))
                            : new CommandRecord(stream, commandId, heads[a], 0, refused("refused in round " + round));
                    Throwable loser = events.succeeded() ? refusal.failure() : events.failure();
                    assertThat(loser).as("round %d, %s", round, stream)
                            .isInstanceOfSatisfying(DuplicateCommandException.class,
                                    duplicate -> assertThat(duplicate.stored()).isEqualTo(expected));
                    if (events.succeeded()) {
                        assertThat(events.value()).isEqualTo(new AppendResult(heads[a] + 1, heads[a] + 1));
                        heads[a]++;
                        eventsWon[a]++;
                    } else {
                        assertThat(refusal.value()).isEqualTo(new AppendResult(heads[a] + 1, heads[a]));
                    }
                    winners.add(expected);
                }
            }
        }
        for (CommandRecord winner : winners) {
            assertThat(store.findCommand(winner.stream(), winner.commandId())).contains(winner);
        }
        for (int a = 0; a < aggregates; a++) {
            List<StoredEvent> stream = read(stream("race-" + a));
            assertThat(stream).as("nothing doubled").hasSize(1 + eventsWon[a]);
            assertThat(stream).extracting(StoredEvent::sequence).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(0, heads[a]).boxed().toList());
            assertThat(stream).extracting(StoredEvent::commandId).doesNotHaveDuplicates();
        }
    }

    private static Throwable catchThrowable(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        return org.assertj.core.api.Assertions.catchThrowable(call);
    }
}
