package io.gyre.eventstore.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds events and append requests for the conformance suites, and compares stored JSON by meaning. */
public final class Events {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A timestamp every store can keep exactly (millisecond precision). */
    public static final Instant WHEN = Instant.parse("2026-01-02T03:04:05.678Z");

    private Events() {
    }

    /**
     * @param n a number to put in the payload
     * @return an event whose payload is {@code {"n": n}}
     */
    public static EventData event(long n) {
        return new EventData(UUID.randomUUID().toString(), "Numbered", "{\"n\":" + n + "}",
                "{\"source\":\"conformance\"}", WHEN);
    }

    /**
     * @param aggregateId the aggregate
     * @param expected    the optimistic check
     * @param commandId   the command
     * @param numbers     one event per number
     * @return the request
     */
    public static AppendRequest append(String aggregateId, ExpectedSequence expected, String commandId,
                                       long... numbers) {
        List<EventData> events = new ArrayList<>();
        for (long n : numbers) {
            events.add(event(n));
        }
        return new AppendRequest("Conformance", aggregateId, expected, commandId, events);
    }

    /**
     * @param event a stored event of {@link #event(long)}
     * @return its number
     */
    public static long numberOf(StoredEvent event) {
        return json(event.payload()).get("n").asLong();
    }

    /**
     * @param text JSON text
     * @return its tree, for comparison regardless of key order and spacing (PostgreSQL's jsonb normalises both)
     */
    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the timestamp as stored, to the precision every store keeps */
    static Instant truncated(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS);
    }
}
