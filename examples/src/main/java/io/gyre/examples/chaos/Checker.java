package io.gyre.examples.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads every account back from the store and checks it against what the clients saw. */
final class Checker {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Checker() {
    }

    static ChaosReport check(JdbcEventStore store, Clients clients, ChaosRun.Settings settings, List<String> timeline) {
        List<String> details = new ArrayList<>(timeline);
        Map<String, Integer> applications = new HashMap<>();
        Map<String, String> accountOfCommand = new HashMap<>();
        long events = 0;
        long gaps = 0;
        long negative = 0;
        long total = 0;
        for (int i = 0; i < settings.accounts(); i++) {
            String account = Clients.account(i);
            List<StoredEvent> stream;
            try (Stream<StoredEvent> read = store.readStream(StreamId.of("Account", account))) {
                stream = read.toList();
            }
            long balance = 0;
            String previousCommand = null;
            for (int sequence = 0; sequence < stream.size(); sequence++) {
                StoredEvent event = stream.get(sequence);
                events++;
                if (event.sequence() != sequence) {
                    gaps++;
                    details.add("gap: " + account + " has sequence " + event.sequence() + " at position " + sequence);
                }
                if (!event.commandId().equals(previousCommand)) {
                    applications.merge(event.commandId(), 1, Integer::sum);
                    accountOfCommand.put(event.commandId(), account);
                }
                previousCommand = event.commandId();
                long amount = amountOf(event);
                balance += event.type().equals("Withdrawn") ? -amount : amount;
                if (balance < 0) {
                    negative++;
                    details.add("negative: " + account + " at sequence " + event.sequence() + " is " + balance);
                }
            }
            total += balance;
        }

        long duplicated = applications.entrySet().stream().filter(entry -> entry.getValue() > 1)
                .peek(entry -> details.add("duplicated: command " + entry.getKey() + " stored " + entry.getValue()
                        + " times in " + accountOfCommand.get(entry.getKey())))
                .count();
        long lost = 0;
        for (Clients.Call call : clients.acknowledged().values()) {
            if (!call.account().equals(accountOfCommand.get(call.key()))) {
                lost++;
                details.add("lost: acknowledged " + call.kind() + " " + call.key() + " of " + call.account()
                        + " is not in the store");
            }
        }
        long unknown = 0;
        for (String command : applications.keySet()) {
            if (!clients.sent().contains(command)) {
                unknown++;
                details.add("unknown: stored command " + command + " was never sent");
            }
        }
        long expectedTotal = settings.accounts() * settings.initialBalance();
        boolean conserved = total == expectedTotal;
        if (!conserved) {
            details.add("not conserved: balances add up to " + total + ", deposits to " + expectedTotal);
        }
        clients.failures().forEach(failure -> details.add("failed: " + failure));

        long maxStall = 0;
        for (Clients.Call call : allCalls(clients)) {
            maxStall = Math.max(maxStall, call.end() - call.start());
        }
        Duration afterEvent = Duration.ofSeconds(5);
        return new ChaosReport(clients.acknowledged().size(), clients.refused().size(), clients.failures().size(),
                clients.retried(), maxStall / 1_000_000,
                stallAround(clients, "kill", afterEvent), stallAround(clients, "stop", afterEvent),
                stallAround(clients, "db", afterEvent.plus(settings.dbOutage())), lost, duplicated, unknown, gaps,
                negative, conserved, events, details);
    }

    private static List<Clients.Call> allCalls(Clients clients) {
        List<Clients.Call> calls = new ArrayList<>(clients.acknowledged().values());
        calls.addAll(clients.refused().values());
        return calls;
    }

    /** The longest wait among commands in progress between the event and the end of its window. */
    private static long stallAround(Clients clients, String event, Duration window) {
        Long at = clients.events().get(event);
        if (at == null) {
            return 0;
        }
        long longest = 0;
        for (Clients.Call call : allCalls(clients)) {
            if (call.start() <= at + window.toNanos() && call.end() >= at) {
                longest = Math.max(longest, call.end() - call.start());
            }
        }
        return longest / 1_000_000;
    }

    private static long amountOf(StoredEvent event) {
        try {
            JsonNode payload = JSON.readTree(event.payload());
            JsonNode amount = payload.get("amount");
            return amount == null ? 0 : amount.asLong();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
