package io.gyre.examples.bench;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandGateway;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.examples.bank.Account;
import io.gyre.examples.bank.Deposit;
import io.gyre.examples.bank.InsufficientFundsException;
import io.gyre.examples.bank.OpenAccount;
import io.gyre.examples.bank.Withdraw;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What it costs that every decision is checked by the store: one node on embedded PostgreSQL, closed-loop clients
 * sending, in alternating rounds,
 * <ul>
 *   <li>deposits (events appended: the baseline),</li>
 *   <li>refused withdrawals with ids the gateway chose (a refusal no other delivery can contradict: confirmed by
 *       reading the stream's last sequence number),</li>
 *   <li>refused withdrawals with ids the caller chose (an idempotency key: the refusal is stored under it, only
 *       if the stream has not moved, so that the first decision on that key stays final).</li>
 * </ul>
 * Prints commands per second of each and their ratio to deposits, medians of per-round ratios.
 *
 * <p>Run: {@code mvn -q -DskipTests package exec:java -pl examples -am
 * -Dexec.mainClass=io.gyre.examples.bench.DecisionBenchmark [-Dexec.args="seconds rounds clients"]} (defaults: 3
 * seconds per round, 5 rounds, 8 clients).
 */
public final class DecisionBenchmark {

    private static final int ACCOUNTS = 1_000;

    private DecisionBenchmark() {
    }

    /**
     * @param args seconds per round, rounds, clients
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        try (Databases databases = new Databases();
             Gyre node = Gyre.builder().eventStore(JdbcEventStore.postgres(databases.postgres(32)))
                     .aggregate(Account.class).start()) {
            CommandGateway gateway = node.commandGateway();
            for (int a = 0; a < ACCOUNTS; a++) {
                gateway.sendAndWait(new OpenAccount("acc-" + a, "bench"));
            }
            AtomicLong keys = new AtomicLong();
            List<Consumer<String>> kinds = List.of(
                    account -> gateway.sendAndWait(new Deposit(account, 1)),
                    account -> refused(() -> gateway.sendAndWait(new Withdraw(account, 1_000_000_000L))),
                    account -> refused(() -> gateway.sendAndWait(CommandMessage.of(new Withdraw(account,
                            1_000_000_000L), Metadata.empty()).withCommandId("key-" + keys.incrementAndGet()),
                            Duration.ofSeconds(30))));
            String[] names = {"deposits (events appended)", "refusals, gateway ids (read check)",
                    "refusals, caller ids (stored decision)"};
            for (Consumer<String> kind : kinds) {
                run(kind, 1, clients);
            }
            double[][] rates = new double[kinds.size()][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < kinds.size(); k++) {
                    int kind = (k + round) % kinds.size();
                    rates[kind][round] = run(kinds.get(kind), seconds, clients);
                }
            }
            System.out.printf("Decision benchmark: PostgreSQL (embedded, fsync off), %d clients, %.1f s x %d "
                    + "rounds%n%n%-40s %12s %12s%n", clients, seconds, rounds, "", "commands/s", "÷ deposits");
            for (int k = 0; k < kinds.size(); k++) {
                System.out.printf("%-40s %12.0f %12.2f%n", names[k], Medians.of(rates[k]),
                        Medians.ofRatios(rates[k], rates[0]));
            }
        }
    }

    private static void refused(Runnable command) {
        try {
            command.run();
            throw new IllegalStateException("a withdrawal of a billion went through");
        } catch (InsufficientFundsException | io.gyre.command.CommandRefusedException expected) {
            // The decision measured.
        }
    }

    private static double run(Consumer<String> kind, double seconds, int clients) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong done = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread thread = new Thread(() -> {
                while (running.get()) {
                    kind.accept("acc-" + ThreadLocalRandom.current().nextInt(ACCOUNTS));
                    done.incrementAndGet();
                }
            });
            thread.start();
            threads.add(thread);
        }
        long started = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        running.set(false);
        for (Thread thread : threads) {
            thread.join();
        }
        return done.get() / ((System.nanoTime() - started) / 1e9);
    }
}
