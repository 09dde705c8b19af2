package io.gyre.processing.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ProcessingTransactions} that is also a {@link DeadLetterStore} must do: fence a transaction that
 * stores no token ({@link ProcessingTransaction#fence}), and add and remove dead letters in its transactions, so
 * that they exist exactly when the transaction that wrote them committed.
 */
public abstract class ProcessingTransactionsConformanceTest {

    private static final Instant WHEN = Instant.parse("2026-01-02T03:04:05.678Z");

    /** The transactions under test, fresh for each test. */
    protected ProcessingTransactions store;

    /** @return fresh, empty transactions that are also a {@link DeadLetterStore} */
    protected abstract ProcessingTransactions createStore();

    /** Releases what {@link #createStore()} made; the default does nothing. */
    protected void closeStore() {
    }

    @BeforeEach
    void open() {
        store = createStore();
        assertThat(store).as("this kit is for transactions that keep dead letters").isInstanceOf(DeadLetterStore.class);
        tokens().initialize("p", 2);
        tokens().claim("p", 1, "node-a", 10);
    }

    @AfterEach
    void close() {
        closeStore();
    }

    private TokenStore tokens() {
        return store.tokenStore();
    }

    private DeadLetterStore letters() {
        return (DeadLetterStore) store;
    }

    private static DeadLetter letter(String aggregate, long position) {
        StoredEvent event = new StoredEvent(position, "Account", aggregate, 0, "event-" + aggregate, "command-"
                + position, "Numbered", "{\"n\":" + position + "}", "{}", WHEN, 0);
        return new DeadLetter("p", 1, event, new TrackingToken(position, position), "boom", 1, WHEN, WHEN);
    }

    @Test
    void a_fence_lets_the_holder_commit_without_moving_its_token() {
        tokens().update("p", 1, "node-a", 10, new TrackingToken(3, 3));
        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(letter("a", 2));
            transaction.fence("p", 1, "node-a", 10);
            transaction.commit();
        }

        assertThat(letters().list("p", 1)).containsExactly(letter("a", 2));
        assertThat(tokens().tokens("p").get(1).token()).isEqualTo(new TrackingToken(3, 3));
        assertThat(tokens().tokens("p").get(1).owner()).isEqualTo("node-a");
    }

    @Test
    void a_fence_refuses_a_superseded_owner_naming_the_newer_one_and_its_letters_roll_back() {
        letters().add(letter("b", 1));
        tokens().claim("p", 1, "node-b", 11);

        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(letter("a", 2));
            transaction.removeDeadLetter("p", "event-b");
            assertThatThrownBy(() -> transaction.fence("p", 1, "node-a", 10))
                    .isInstanceOf(StaleSegmentOwnerException.class).hasMessageContaining("node-b");
        }

        assertThat(letters().list("p", 1)).as("the superseded owner's writes rolled back")
                .containsExactly(letter("b", 1));
    }

    @Test
    void a_letter_added_with_a_refused_token_update_is_rolled_back() {
        tokens().claim("p", 1, "node-b", 11);

        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(letter("a", 2));
            assertThatThrownBy(() -> transaction.updateToken("p", 1, "node-a", 10, new TrackingToken(2, 2)))
                    .isInstanceOf(StaleSegmentOwnerException.class);
        }

        assertThat(letters().list("p", 1)).isEmpty();
        assertThat(tokens().tokens("p").get(1).token()).isEqualTo(TrackingToken.START);
    }

    @Test
    void letters_added_and_removed_in_a_transaction_change_nothing_until_it_commits() {
        letters().add(letter("b", 1));

        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(letter("a", 2));
            transaction.removeDeadLetter("p", "event-b");
            transaction.updateToken("p", 1, "node-a", 10, new TrackingToken(2, 2));
        }
        assertThat(letters().list("p", 1)).as("rolled back on close").containsExactly(letter("b", 1));

        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(letter("a", 2));
            transaction.removeDeadLetter("p", "event-b");
            transaction.updateToken("p", 1, "node-a", 10, new TrackingToken(2, 2));
            transaction.commit();
        }
        assertThat(letters().list("p", 1)).containsExactly(letter("a", 2));
        assertThat(tokens().tokens("p").get(1).token()).isEqualTo(new TrackingToken(2, 2));
    }

    @Test
    void adding_a_letter_again_in_a_transaction_updates_it_in_its_place() {
        DeadLetter first = letter("a", 2);
        letters().add(first);
        letters().add(letter("b", 3));
        DeadLetter again = first.failedAgain("boom again", WHEN.plusSeconds(5));

        try (ProcessingTransaction transaction = store.begin()) {
            transaction.addDeadLetter(again);
            transaction.fence("p", 1, "node-a", 10);
            transaction.commit();
        }

        assertThat(letters().list("p", 1)).containsExactly(again, letter("b", 3));
    }
}
