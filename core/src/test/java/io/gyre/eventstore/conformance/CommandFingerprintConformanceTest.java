package io.gyre.eventstore.conformance;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.conformance.Events.refusal;
import static io.gyre.eventstore.conformance.Events.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandIdReusedException;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a store that keeps command fingerprints ({@link AppendRequest#fingerprint()}) must do with them: a command id
 * already decided answers a re-delivery of the same command (same fingerprint) with the stored decision, and
 * refuses a different command under the reused id as non-transient, storing nothing, instead of handing it the
 * first command's outcome; an unknown fingerprint, on either side, is never compared. A store runs it with a
 * subclass of a few lines that returns its {@link EventStoreFixture}.
 */
public abstract class CommandFingerprintConformanceTest {

    private static final String FIRST = "sha256:first-command";
    private static final String OTHER = "sha256:other-command";

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

    /** A different command under a reused id: refused, non-transient, naming the id and both fingerprints. */
    private static void assertReusedId(Throwable thrown, StreamId stream, String commandId) {
        assertThat(thrown).isInstanceOf(CommandIdReusedException.class)
                .isNotInstanceOf(DuplicateCommandException.class)
                .hasMessageContaining(commandId).hasMessageContaining(stream.toString())
                .hasMessageContaining(FIRST).hasMessageContaining(OTHER);
        assertThat(GyreNonTransientException.isCauseOf(thrown)).isTrue();
    }

    @Test
    void a_decision_keeps_its_commands_fingerprint() {
        store.append(append("acc", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(FIRST));
        store.append(refusal(stream("acc"), ExpectedSequence.exactly(0), "cmd-refused", "no").withFingerprint(OTHER));
        store.append(append("acc", ExpectedSequence.exactly(0), "cmd-unknown", 2));
        assertThat(store.findCommand(stream("acc"), "cmd")).get().extracting(CommandRecord::fingerprint)
                .isEqualTo(FIRST);
        assertThat(store.findCommand(stream("acc"), "cmd-refused")).get().extracting(CommandRecord::fingerprint)
                .isEqualTo(OTHER);
        assertThat(store.findCommand(stream("acc"), "cmd-unknown")).get().extracting(CommandRecord::fingerprint)
                .isNull();
    }

    @Test
    void a_redelivery_of_the_same_command_gets_the_stored_decision() {
        store.append(append("acc", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(FIRST));
        assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.exactly(0), "cmd", 2)
                .withFingerprint(FIRST)))
                .isInstanceOfSatisfying(DuplicateCommandException.class, duplicate -> assertThat(duplicate.stored())
                        .isEqualTo(new CommandRecord(stream("acc"), "cmd", -1, 1, CommandOutcome.Result.of(null),
                                FIRST)));
    }

    @Test
    void a_different_command_under_a_reused_id_is_refused_and_nothing_is_stored() {
        store.append(append("acc", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(FIRST));
        for (AppendRequest reuse : List.of(
                append("acc", ExpectedSequence.exactly(0), "cmd", 2).withFingerprint(OTHER),
                refusal(stream("acc"), ExpectedSequence.exactly(0), "cmd", "no").withFingerprint(OTHER),
                append("acc", ExpectedSequence.noStream(), "cmd", 3).withFingerprint(OTHER))) {
            assertReusedId(org.assertj.core.api.Assertions.catchThrowable(() -> store.append(reuse)), stream("acc"),
                    "cmd");
        }
        assertThat(store.lastSequence(stream("acc"))).isZero();
        assertThat(store.findCommand(stream("acc"), "cmd")).get().extracting(CommandRecord::fingerprint)
                .isEqualTo(FIRST);
    }

    @Test
    void an_unknown_fingerprint_on_either_side_is_never_compared() {
        store.append(append("known", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(FIRST));
        store.append(append("unknown", ExpectedSequence.noStream(), "cmd", 1));
        assertThatThrownBy(() -> store.append(append("known", ExpectedSequence.exactly(0), "cmd", 2)))
                .as("the new delivery's fingerprint is unknown").isInstanceOf(DuplicateCommandException.class);
        assertThatThrownBy(() -> store.append(append("unknown", ExpectedSequence.exactly(0), "cmd", 2)
                .withFingerprint(OTHER)))
                .as("the stored decision's fingerprint is unknown").isInstanceOf(DuplicateCommandException.class);
    }

    @Test
    void the_same_command_id_on_another_aggregate_is_another_command_whatever_its_fingerprint() {
        store.append(append("acc-1", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(FIRST));
        store.append(append("acc-2", ExpectedSequence.noStream(), "cmd", 1).withFingerprint(OTHER));
        assertThat(store.findCommand(stream("acc-2"), "cmd")).get().extracting(CommandRecord::fingerprint)
                .isEqualTo(OTHER);
    }

    /**
     * Two different commands sent under one id at the same moment, each deciding on the same head: the first to
     * commit is stored, the other is refused as a reused id, however their writes interleave.
     */
    @Test
    void two_different_commands_racing_under_one_id_store_one_and_refuse_the_other() throws Exception {
        int aggregates = 8;
        for (int a = 0; a < aggregates; a++) {
            store.append(append("race-" + a, ExpectedSequence.noStream(), "open-" + a, 0));
        }
        try (Rendezvous rendezvous = new Rendezvous(2 * aggregates)) {
            List<Callable<?>> writers = new ArrayList<>();
            for (int a = 0; a < aggregates; a++) {
                String aggregate = "race-" + a;
                writers.add(() -> store.append(append(aggregate, ExpectedSequence.exactly(0), "key", 1)
                        .withFingerprint(FIRST)));
                writers.add(() -> store.append(refusal(stream(aggregate), ExpectedSequence.exactly(0), "key", "no")
                        .withFingerprint(OTHER)));
            }
            List<Rendezvous.Outcome> outcomes = rendezvous.race(writers);
            for (int a = 0; a < aggregates; a++) {
                Rendezvous.Outcome first = outcomes.get(2 * a);
                Rendezvous.Outcome other = outcomes.get(2 * a + 1);
                StreamId stream = stream("race-" + a);
                assertThat(first.succeeded() ^ other.succeeded()).as("%s: exactly one is stored (%s, %s)", stream,
                        first, other).isTrue();
                assertReusedId(first.succeeded() ? other.failure() : first.failure(), stream, "key");
                assertThat(store.findCommand(stream, "key")).get().extracting(CommandRecord::fingerprint)
                        .isEqualTo(first.succeeded() ? FIRST : OTHER);
                assertThat(store.lastSequence(stream)).isEqualTo(first.succeeded() ? 1 : 0);
            }
        }
    }
}
