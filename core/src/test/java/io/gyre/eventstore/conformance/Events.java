package io.gyre.eventstore.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
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

    /** The aggregate type of the suites' streams, unless a test names another. */
    public static final String TYPE = "Conformance";

    /**
     * @param aggregateId an aggregate id
     * @return the stream of that id under {@link #TYPE}
     */
    public static StreamId stream(String aggregateId) {
        return StreamId.of(TYPE, aggregateId);
    }

    /**
     * @param aggregateId the aggregate, of type {@link #TYPE}
     * @param expected    the optimistic check
     * @param commandId   the command
     * @param numbers     one event per number, at least one
     * @return the request, with no result value
     */
    public static AppendRequest append(String aggregateId, ExpectedSequence expected, String commandId,
                                       long... numbers) {
        return append(stream(aggregateId), expected, commandId, numbers);
    }

    /**
     * @param stream    the aggregate
     * @param expected  the optimistic check
     * @param commandId the command
     * @param numbers   one event per number, at least one
     * @return the request, with no result value
     */
    public static AppendRequest append(StreamId stream, ExpectedSequence expected, String commandId,
                                       long... numbers) {
        return AppendRequest.events(stream, expected, commandId, events(numbers));
    }

    /**
     * @param numbers one event per number
     * @return the events
     */
    public static List<EventData> events(long... numbers) {
        List<EventData> events = new ArrayList<>();
        for (long n : numbers) {
            events.add(event(n));
        }
        return events;
    }

    /**
     * A decision without events: the handler refused the command.
     *
     * @param stream    the aggregate
     * @param expected  the last sequence the refusal was decided on
     * @param commandId the command
     * @param message   the refusal's message
     * @return the request
     */
    public static AppendRequest refusal(StreamId stream, ExpectedSequence expected, String commandId,
                                        String message) {
        return new AppendRequest(stream, expected, commandId, List.of(),
                new CommandOutcome.Refusal("com.example.InsufficientFunds", message));
    }

    /**
     * A decision without events: the handler returned a value and changed nothing.
     *
     * @param stream    the aggregate
     * @param expected  the last sequence it was decided on
     * @param commandId the command
     * @param value     its return value in stored form, or null
     * @return the request
     */
    public static AppendRequest noChange(StreamId stream, ExpectedSequence expected, String commandId,
                                         SerializedValue value) {
        return new AppendRequest(stream, expected, commandId, List.of(), CommandOutcome.Result.of(value));
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
