package io.gyre.examples.bank;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.serialization.SerializedValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A single bank node on the embedded H2 event store: opens accounts, runs concurrent deposits and withdrawals
 * through the command gateway, then checks every account's stream against what the clients saw acknowledged.
 *
 * <p>Run with {@code mvn -B -q -DskipTests package exec:java -pl examples -am}. Arguments: number of accounts
 * (default 20) and number of commands (default 20,000).
 */
public final class BankDemo {

    private BankDemo() {
    }

    /**
     * @param args accounts and commands, both optional
     * @throws Exception when the demo finds an inconsistency
     */
    public static void main(String[] args) throws Exception {
        int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int commands = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        Path folder = Files.createTempDirectory("gyre-bank-demo");
        try {
            run(folder, accounts, commands);
        } finally {
            // The node has closed the store, and H2 with it, by now. Each demo run writes about 240 MB there.
            TempFolders.deleteRecursively(folder);
        }
    }

    private static void run(Path folder, int accounts, int commands) throws Exception {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        System.out.println("Event store: embedded H2 in " + folder + " (deleted when the demo ends)");
        try (Gyre node = Gyre.builder().eventStore(store).aggregate(Account.class).start()) {
            CommandGateway gateway = node.commandGateway();
            for (int i = 0; i < accounts; i++) {
                gateway.sendAndWait(new OpenAccount("acc-" + i, "owner-" + i), Duration.ofSeconds(5));
            }
            System.out.printf("Opened %d accounts; sending %,d deposits and withdrawals at random...%n",
                    accounts, commands);

            long[] expected = new long[accounts];
            AtomicLong refused = new AtomicLong();
            AtomicLong answered = new AtomicLong();
            long started = System.nanoTime();
            // The whole burst is sent at once; none of it is refused for being early, it waits for capacity. Each
            // command gets a deadline long enough for the whole burst to drain on a slow machine.
            Duration deadline = Duration.ofMinutes(10);
            ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "demo-progress");
                thread.setDaemon(true);
                return thread;
            });
            progress.scheduleAtFixedRate(() -> System.out.printf("  ... %,d of %,d answered%n", answered.get(),
                    commands), 5, 5, TimeUnit.SECONDS);
            List<CompletableFuture<Void>> inFlight = new ArrayList<>();
            for (int i = 0; i < commands; i++) {
                int account = ThreadLocalRandom.current().nextInt(accounts);
                long amount = 1 + ThreadLocalRandom.current().nextInt(100);
                boolean deposit = ThreadLocalRandom.current().nextInt(3) != 0;
                Object command = deposit ? new Deposit("acc-" + account, amount) : new Withdraw("acc-" + account, amount);
                inFlight.add(gateway.send(command, Metadata.empty(), deadline).handle((balance, failure) -> {
                    answered.incrementAndGet();
                    if (failure == null) {
                        synchronized (expected) {
                            expected[account] += deposit ? amount : -amount;
                        }
                    } else if (failure instanceof InsufficientFundsException) {
                        refused.incrementAndGet();
                    } else {
                        throw new IllegalStateException("Unexpected failure", failure);
                    }
                    return null;
                }));
            }
            try {
                CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).join();
            } finally {
                progress.shutdownNow();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("%,d commands in %.2f s (%,.0f commands/s), %,d withdrawals refused for lack of "
                    + "funds%n", commands, seconds, commands / seconds, refused.get());

            long events = 0;
            for (int i = 0; i < accounts; i++) {
                long balance = 0;
                long sequence = 0;
                try (Stream<StoredEvent> stream = store.readStream(StreamId.of("Account", "acc-" + i))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) stream::iterator) {
                        if (event.sequence() != sequence++) {
                            throw new IllegalStateException("Gap in the stream of acc-" + i);
                        }
                        Object payload = node.serializer().deserialize(
                                new SerializedValue(event.type(), event.payload()), event.revision());
                        if (payload instanceof Deposited deposited) {
                            balance += deposited.amount();
                        } else if (payload instanceof Withdrawn withdrawn) {
                            balance -= withdrawn.amount();
                        }
                        events++;
                    }
                }
                if (balance != expected[i] || balance < 0) {
                    throw new IllegalStateException("acc-" + i + " holds " + balance + " but clients saw "
                            + expected[i] + " acknowledged");
                }
            }
            System.out.printf("Checked %,d stored events: every stream contiguous from 0, every balance equals the "
                    + "sum of acknowledged commands, none below zero.%n", events);

            try {
                gateway.sendAndWait(new Withdraw("acc-0", 1_000_000_000L));
            } catch (InsufficientFundsException e) {
                System.out.println("Overdraft refused as expected: " + e.getMessage());
            }
        }
    }
}
