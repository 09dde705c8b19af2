package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An event's time is bound to PostgreSQL as seconds and microseconds since the epoch, not as a formatted
 * timestamp: it must read back as the microsecond PostgreSQL would have rounded the formatted time to, before and
 * after 1970, and across a second, a year and the epoch when the rounding carries.
 */
class EventTimeOnPostgresTest {

    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    @Test
    void event_times_read_back_rounded_to_the_microsecond_as_postgresql_rounds_them() {
        List<Instant> sent = List.of(
                Instant.parse("2026-11-30T15:45:05.123456789Z"),
                Instant.parse("2026-11-30T15:45:05.123456400Z"),
                Instant.parse("2026-12-31T23:59:59.999999500Z"),
                Instant.parse("1969-12-31T23:59:59.999999600Z"),
                Instant.parse("1969-07-20T20:17:40.000001Z"),
                Instant.parse("1900-01-01T00:00:00Z"),
                Instant.parse("2500-06-01T12:00:00.5Z"),
                Instant.parse("9999-12-31T23:59:59.999999Z"));
        List<Instant> expected = List.of(
                Instant.parse("2026-11-30T15:45:05.123457Z"),
                Instant.parse("2026-11-30T15:45:05.123456Z"),
                Instant.parse("2027-01-01T00:00:00Z"),
                Instant.parse("1970-01-01T00:00:00Z"),
                Instant.parse("1969-07-20T20:17:40.000001Z"),
                Instant.parse("1900-01-01T00:00:00Z"),
                Instant.parse("2500-06-01T12:00:00.5Z"),
                Instant.parse("9999-12-31T23:59:59.999999Z"));
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            events.add(new EventData("time-" + i, "Timed", "{\"n\":" + i + "}", "{}", sent.get(i), 0));
        }
        StreamId stream = StreamId.of("Timed", "t-1");
        try (JdbcEventStore store = JdbcEventStore.builder(PostgresServer.get().dataSource()).tableNames(tables)
                .createSchema(true).build()) {
            store.append(AppendRequest.events(stream, ExpectedSequence.noStream(), "cmd-1", events));
            // And one alone, through the single statement a group shares.
            store.append(AppendRequest.events(stream, ExpectedSequence.exactly(sent.size() - 1), "cmd-2",
                    List.of(new EventData("time-last", "Timed", "{}", "{}",
                            Instant.parse("2026-11-30T15:45:05.000000999Z"), 0))));
            try (Stream<StoredEvent> read = store.readStream(stream)) {
                List<Instant> times = read.map(StoredEvent::timestamp).toList();
                List<Instant> all = new ArrayList<>(expected);
                all.add(Instant.parse("2026-11-30T15:45:05.000001Z"));
                assertThat(times).containsExactlyElementsOf(all);
            }
        }
    }
}
