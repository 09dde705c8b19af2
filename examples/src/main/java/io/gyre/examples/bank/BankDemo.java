package io.gyre.examples.bank;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentStatus;
import io.gyre.serialization.SerializedValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A single bank node on the embedded H2 event store: opens accounts, runs concurrent deposits and withdrawals
 * through the command gateway, then checks every account's stream against what the clients saw acknowledged, and
 * the balances read model ({@link BalancesProjection}, in an H2 database of its own) against the streams once it
 * has caught up.
 *
 * <p>Run with {@code mvn -B -q -DskipTests package exec:java -pl examples -am}. Arguments: number of accounts
 * (default 20) and number of commands (default 20,000).
 */
public final class BankDemo {

    /** How long the demo waits for the read model to move on while catching up, at most. */
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(60);

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
        // The read model has a database of its own, as it often would in production; its processor's tokens live
        // there too, so that each batch's balance changes and the token that covers them commit together.
        // Pooled by HikariCP, as the store pools its own H2 file: H2's JdbcConnectionPool would parse every
        // statement again on each loan.
        HikariConfig readModelPool = new HikariConfig();
        // retry: opens the file again when an interrupted thread closed it (see the README).
        readModelPool.setJdbcUrl("jdbc:h2:retry:" + folder.resolve("read-model").toAbsolutePath());
        readModelPool.setUsername("sa");
        readModelPool.setPassword("");
        readModelPool.setPoolName("bank-read-model");
        readModelPool.setMaximumPoolSize(4);
        HikariDataSource readModelDatabase = new HikariDataSource(readModelPool);
        try {
            BalancesProjection.createTable(readModelDatabase);
            JdbcProcessingStore readModel = JdbcProcessingStore.create(readModelDatabase);
            try (Gyre node = Gyre.builder().eventStore(store).aggregate(Account.class)
                    .processor(BalancesProjection.processor(readModel)).start()) {
                run(node, store, new Balances(readModelDatabase), accounts, commands);
            }
        } finally {
            readModelDatabase.close();
        }
    }

    private static void run(Gyre node, JdbcEventStore store, Balances readModel, int accounts, int commands)
            throws Exception {
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
        Map<String, Long> stored = new TreeMap<>();
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
            stored.put("acc-" + i, balance);
        }
        System.out.printf("Checked %,d stored events: every stream contiguous from 0, every balance equals the "
                + "sum of acknowledged commands, none below zero.%n", events);

        checkReadModel(node, readModel, stored);

        try {
            gateway.sendAndWait(new Withdraw("acc-0", 1_000_000_000L));
        } catch (InsufficientFundsException e) {
            System.out.println("Overdraft refused as expected: " + e.getMessage());
        }
    }

    /**
     * Waits for the balances processor to catch up (it runs alongside the commands, so it is usually there
     * already), then checks that the read model holds exactly the balances of the event store.
     */
    private static void checkReadModel(Gyre node, Balances readModel, Map<String, Long> stored) throws Exception {
        long started = System.nanoTime();
        // A slow machine may need longer to catch up: the demo gives up only when the read model stops moving.
        long deadline = started + CATCH_UP_TIMEOUT.toNanos();
        long nextReport = started + TimeUnit.SECONDS.toNanos(2);
        long behind = Long.MAX_VALUE;
        ProcessorStatus status = node.processors().status(BalancesProjection.PROCESSOR);
        while (!status.caughtUp()) {
            long now = System.nanoTime();
            long lag = status.segments().stream().mapToLong(SegmentStatus::lagEvents).sum();
            if (lag < behind) {
                behind = lag;
                deadline = now + CATCH_UP_TIMEOUT.toNanos();
            }
            if (now > deadline) {
                throw new IllegalStateException("The balances read model made no progress for "
                        + CATCH_UP_TIMEOUT.toSeconds() + " s: " + status);
            }
            if (now > nextReport) {
                System.out.printf("  ... read model catching up, %,d events behind%n", lag);
                nextReport = now + TimeUnit.SECONDS.toNanos(2);
            }
            Thread.sleep(20);
            status = node.processors().status(BalancesProjection.PROCESSOR);
        }
        Map<String, Long> projected = new TreeMap<>(readModel.all());
        if (!projected.equals(stored)) {
            throw new IllegalStateException("The balances read model " + projected + " differs from the event "
                    + "store's balances " + stored);
        }
        System.out.printf("Read model %s caught up (waited %d ms): all %d balances equal the event store's, "
                + "total %,d.%n", BalancesProjection.TABLE, (System.nanoTime() - started) / 1_000_000,
                projected.size(), projected.values().stream().mapToLong(Long::longValue).sum());
    }
}
