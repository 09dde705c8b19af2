package io.gyre.processing.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.DeadLetter;
import io.gyre.processing.DeadLetterStore;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link DeadLetterStore} must do: keep letters per processor and segment, in the order added. */
public abstract class DeadLetterStoreConformanceTest {

    private static final Instant WHEN = Instant.parse("2026-01-02T03:04:05.678Z");

    /** The store under test, fresh for each test. */
    protected DeadLetterStore store;

    /** @return a fresh, empty store */
    protected abstract DeadLetterStore createStore();

    /** Releases what {@link #createStore()} made; the default does nothing. */
    protected void closeStore() {
    }

    @BeforeEach
    void open() {
        store = createStore();
    }

    @AfterEach
    void close() {
        closeStore();
    }

    /** Events of several revisions: a letter keeps the revision its event was stored at, for upcasting on retry. */
    private static DeadLetter letter(String processor, int segment, String aggregate, long sequence, long position) {
        StoredEvent event = new StoredEvent(position, "Account", aggregate, sequence, "event-" + aggregate + "-"
                + sequence, "command-" + position, "Numbered", "{\"n\":" + position + "}", "{\"k\":\"v\"}", WHEN,
                (int) (position % 3));
        return new DeadLetter(processor, segment, event, new TrackingToken(position * 10, position), "boom", 3, WHEN,
                WHEN);
    }

    @Test
    void letters_come_back_per_segment_in_the_order_added_with_every_part_intact() {
        DeadLetter first = letter("p", 1, "a", 4, 30);
        DeadLetter second = letter("p", 1, "b", 0, 10);
        store.add(first);
        store.add(letter("p", 2, "c", 0, 20));
        store.add(second);
        store.add(letter("q", 1, "a", 4, 30));

        assertThat(store.list("p", 1)).containsExactly(first, second);
        assertThat(store.counts("p")).isEqualTo(Map.of(1, 2, 2, 1));
        assertThat(store.list("p", 0)).isEmpty();
    }

    @Test
    void adding_a_letter_again_updates_it_in_its_place() {
        DeadLetter first = letter("p", 0, "a", 0, 1);
        store.add(first);
        store.add(letter("p", 0, "a", 1, 2));
        DeadLetter again = first.failedAgain("boom again", WHEN.plusSeconds(5));

        store.add(again);

        assertThat(store.list("p", 0)).hasSize(2).first().isEqualTo(again);
        assertThat(store.list("p", 0).get(0).attempts()).isEqualTo(4);
    }

    @Test
    void a_token_may_be_missing_for_a_subscribing_processors_letter() {
        DeadLetter withToken = letter("p", 0, "a", 0, 1);
        DeadLetter letter = new DeadLetter("p", 0, withToken.event(), null, "boom", 1, WHEN, WHEN);

        store.add(letter);

        assertThat(store.list("p", 0)).containsExactly(letter);
    }

    @Test
    void removed_and_cleared_letters_are_gone() {
        store.add(letter("p", 0, "a", 0, 1));
        store.add(letter("p", 0, "a", 1, 2));
        store.add(letter("q", 0, "a", 0, 1));

        store.remove("p", "event-a-0");
        assertThat(store.list("p", 0)).extracting(l -> l.event().sequence()).containsExactly(1L);

        store.clear("p");
        assertThat(store.list("p", 0)).isEmpty();
        assertThat(store.counts("p")).isEmpty();
        assertThat(store.list("q", 0)).hasSize(1);
    }
}
