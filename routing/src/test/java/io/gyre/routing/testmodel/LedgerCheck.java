package io.gyre.routing.testmodel;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * What clients sent to ledgers and saw acknowledged, and the check of the store against it: sequences contiguous
 * from 0, every posting decided on the latest state (its balanceBefore is the sum of the postings before it),
 * every client reference stored at most once, every acknowledged posting stored, nothing stored that no client
 * sent. A posting whose outcome the client did not learn may be stored once or not at all.
 */
public final class LedgerCheck {

    private final Map<String, Set<String>> sent = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Long>> acknowledged = new ConcurrentHashMap<>();

    /**
     * @param ledger the ledger
     * @param ref    the posting's reference, before sending it
     */
    public void sent(String ledger, String ref) {
        sent.computeIfAbsent(ledger, key -> ConcurrentHashMap.newKeySet()).add(ref);
    }

    /**
     * @param ledger the ledger
     * @param ref    the posting's reference, once acknowledged
     * @param amount its amount
     */
    public void acknowledged(String ledger, String ref, long amount) {
        acknowledged.computeIfAbsent(ledger, key -> new ConcurrentHashMap<>()).put(ref, amount);
    }

    /** @return postings acknowledged so far */
    public long acknowledgedCount() {
        return acknowledged.values().stream().mapToLong(Map::size).sum();
    }

    /**
     * What the check found.
     *
     * @param events   events read
     * @param postings the postings, in stream order per ledger
     */
    public record Summary(long events, List<Posted> postings) {
    }

    /**
     * @param store      the store
     * @param serializer a node's serializer
     * @param ledgers    the ledgers to read
     * @return what was read
     */
    public Summary verify(EventStore store, Serializer serializer, Iterable<String> ledgers) {
        long events = 0;
        List<Posted> postings = new ArrayList<>();
        for (String id : ledgers) {
            List<StoredEvent> stream;
            try (Stream<StoredEvent> read = store.readStream(StreamId.of("Ledger", id))) {
                stream = read.toList();
            }
            Set<String> refs = new HashSet<>();
            long balance = 0;
            long sequence = 0;
            for (StoredEvent event : stream) {
                assertThat(event.sequence()).as("sequence in %s", id).isEqualTo(sequence++);
                Object payload = serializer.deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Posted posted) {
                    assertThat(refs.add(posted.ref())).as("posting %s stored once in %s", posted.ref(), id).isTrue();
                    assertThat(sent.getOrDefault(id, Set.of())).as("stored posting of %s was sent", id)
                            .contains(posted.ref());
                    assertThat(posted.balanceBefore()).as("event %d of %s decided on the latest state",
                            event.sequence(), id).isEqualTo(balance);
                    balance += posted.amount();
                    postings.add(posted);
                }
                events++;
            }
            for (String acked : acknowledged.getOrDefault(id, Map.of()).keySet()) {
                assertThat(refs).as("acknowledged posting %s of %s is stored", acked, id).contains(acked);
            }
        }
        return new Summary(events, postings);
    }
}
