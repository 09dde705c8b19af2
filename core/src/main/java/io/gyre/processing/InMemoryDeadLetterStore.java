package io.gyre.processing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A {@link DeadLetterStore} in the heap, for tests and for nodes on an {@link io.gyre.eventstore.InMemoryEventStore}:
 * letters are lost with the process. Every call is serialized by one monitor.
 */
public final class InMemoryDeadLetterStore implements DeadLetterStore {

    /** Letters by processor, then by event id in the order they were added. */
    private final Map<String, LinkedHashMap<String, DeadLetter>> letters = new java.util.HashMap<>();

    /** Creates an empty store. */
    public InMemoryDeadLetterStore() {
    }

    @Override
    public synchronized void add(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        letters.computeIfAbsent(letter.processor(), name -> new LinkedHashMap<>())
                .put(letter.event().eventId(), letter);
    }

    @Override
    public synchronized List<DeadLetter> list(String processor, int segment) {
        List<DeadLetter> result = new ArrayList<>();
        for (DeadLetter letter : letters.getOrDefault(processor, new LinkedHashMap<>()).values()) {
            if (letter.segment() == segment) {
                result.add(letter);
            }
        }
        return result;
    }

    @Override
    public synchronized void remove(String processor, String eventId) {
        LinkedHashMap<String, DeadLetter> ofProcessor = letters.get(processor);
        if (ofProcessor != null) {
            ofProcessor.remove(eventId);
        }
    }

    @Override
    public synchronized void clear(String processor) {
        letters.remove(processor);
    }

    @Override
    public synchronized Map<Integer, Integer> counts(String processor) {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (DeadLetter letter : letters.getOrDefault(processor, new LinkedHashMap<>()).values()) {
            counts.merge(letter.segment(), 1, Integer::sum);
        }
        return counts;
    }
}
