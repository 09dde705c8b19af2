package io.gyre.processing.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.ProcessorDefinitionException;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link TokenStore} must do: keep each segment's token, and fence by epoch, so that an owner whose claim
 * was superseded can neither advance the segment nor claim it back with an old epoch.
 */
public abstract class TokenStoreConformanceTest {

    /** The store under test, fresh for each test. */
    protected TokenStore store;

    /** @return a fresh, empty store */
    protected abstract TokenStore createStore();

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

    @Test
    void initializing_creates_every_segment_at_the_start_once() {
        store.initialize("p", 3);
        store.initialize("p", 3);

        assertThat(store.tokens("p")).extracting(SegmentToken::segment).containsExactly(0, 1, 2);
        assertThat(store.tokens("p")).allSatisfy(row -> {
            assertThat(row.token()).isEqualTo(TrackingToken.START);
            assertThat(row.owner()).isNull();
            assertThat(row.epoch()).isZero();
        });
        assertThat(store.tokens("other")).isEmpty();
    }

    @Test
    void a_different_segment_count_is_refused_naming_both_counts() {
        store.initialize("p", 4);

        assertThatThrownBy(() -> store.initialize("p", 8)).isInstanceOf(ProcessorDefinitionException.class)
                .hasMessageContaining("'p'").hasMessageContaining("4 segments").hasMessageContaining("8");
    }

    @Test
    void a_claim_returns_the_token_and_the_owner_keeps_advancing_it() {
        store.initialize("p", 2);
        assertThat(store.claim("p", 1, "node-a", 10)).isEqualTo(TrackingToken.START);

        store.update("p", 1, "node-a", 10, new TrackingToken(7, 42));

        SegmentToken row = store.tokens("p").get(1);
        assertThat(row.token()).isEqualTo(new TrackingToken(7, 42));
        assertThat(row.owner()).isEqualTo("node-a");
        assertThat(row.epoch()).isEqualTo(10);
        assertThat(store.tokens("p").get(0).token()).isEqualTo(TrackingToken.START);
        assertThat(store.claim("p", 1, "node-a", 10)).as("a repeated claim").isEqualTo(new TrackingToken(7, 42));
    }

    @Test
    void a_newer_claim_fences_the_previous_owner_before_it_writes_anything() {
        store.initialize("p", 1);
        store.claim("p", 0, "node-a", 10);
        store.update("p", 0, "node-a", 10, TrackingToken.at(5));

        assertThat(store.claim("p", 0, "node-b", 11)).isEqualTo(TrackingToken.at(5));

        assertThatThrownBy(() -> store.update("p", 0, "node-a", 10, TrackingToken.at(9)))
                .isInstanceOfSatisfying(StaleSegmentOwnerException.class, e -> {
                    assertThat(e.storedOwner()).isEqualTo("node-b");
                    assertThat(e.storedEpoch()).isEqualTo(11);
                    assertThat(e.epoch()).isEqualTo(10);
                }).hasMessageContaining("node-a").hasMessageContaining("node-b").hasMessageContaining("11");
        assertThat(store.tokens("p").get(0).token()).as("the stale update changed nothing")
                .isEqualTo(TrackingToken.at(5));
    }

    @Test
    void an_older_or_equal_epoch_of_another_owner_cannot_claim() {
        store.initialize("p", 1);
        store.claim("p", 0, "node-b", 11);

        assertThatThrownBy(() -> store.claim("p", 0, "node-a", 10)).isInstanceOf(StaleSegmentOwnerException.class);
        assertThatThrownBy(() -> store.claim("p", 0, "node-a", 11)).isInstanceOf(StaleSegmentOwnerException.class);
        assertThat(store.tokens("p").get(0).owner()).isEqualTo("node-b");
    }

    @Test
    void an_update_without_a_claim_is_refused() {
        store.initialize("p", 1);

        assertThatThrownBy(() -> store.update("p", 0, "node-a", 1, TrackingToken.at(3)))
                .isInstanceOf(StaleSegmentOwnerException.class);
    }

    @Test
    void tokens_may_move_back_for_a_reset() {
        store.initialize("p", 1);
        store.claim("p", 0, "node-a", 1);
        store.update("p", 0, "node-a", 1, TrackingToken.at(100));

        store.update("p", 0, "node-a", 1, TrackingToken.START);

        assertThat(store.tokens("p").get(0).token()).isEqualTo(TrackingToken.START);
    }

    @Test
    void a_release_keeps_the_token_and_epoch_and_lets_only_a_newer_epoch_in() {
        store.initialize("p", 1);
        store.claim("p", 0, "node-a", 5);
        store.update("p", 0, "node-a", 5, TrackingToken.at(8));

        store.release("p", 0, "node-b", 5);
        assertThat(store.tokens("p").get(0).owner()).as("someone else's release does nothing").isEqualTo("node-a");
        store.release("p", 0, "node-a", 5);

        SegmentToken row = store.tokens("p").get(0);
        assertThat(row.owner()).isNull();
        assertThat(row.epoch()).isEqualTo(5);
        assertThat(row.token()).isEqualTo(TrackingToken.at(8));
        assertThatThrownBy(() -> store.update("p", 0, "node-a", 5, TrackingToken.at(9)))
                .isInstanceOf(StaleSegmentOwnerException.class);
        assertThat(store.claim("p", 0, "node-b", 6)).isEqualTo(TrackingToken.at(8));
    }

    @Test
    void of_racing_claimants_only_the_one_stored_last_can_advance_and_it_has_the_highest_epoch_to_win()
            throws Exception {
        store.initialize("p", 1);
        int claimants = 6;
        ExecutorService threads = Executors.newFixedThreadPool(claimants);
        CyclicBarrier start = new CyclicBarrier(claimants);
        List<Future<Boolean>> claims = new ArrayList<>();
        try {
            for (int i = 1; i <= claimants; i++) {
                int epoch = i;
                claims.add(threads.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        store.claim("p", 0, "node-" + epoch, epoch);
                        return true;
                    } catch (StaleSegmentOwnerException e) {
                        return false;
                    }
                }));
            }
            for (Future<Boolean> claim : claims) {
                claim.get(30, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(claims.get(claimants - 1).get()).as("the highest epoch always gets in").isTrue();
        SegmentToken row = store.tokens("p").get(0);
        assertThat(row.owner()).isEqualTo("node-" + claimants);
        assertThat(row.epoch()).isEqualTo(claimants);
        int advanced = 0;
        for (int i = 1; i <= claimants; i++) {
            try {
                store.update("p", 0, "node-" + i, i, TrackingToken.at(i));
                advanced++;
            } catch (StaleSegmentOwnerException e) {
                // fenced
            }
        }
        assertThat(advanced).isEqualTo(1);
        assertThat(store.tokens("p").get(0).token()).isEqualTo(TrackingToken.at(claimants));
    }
}
