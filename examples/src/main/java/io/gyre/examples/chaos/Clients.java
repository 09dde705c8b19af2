package io.gyre.examples.chaos;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Client threads that move money: a withdrawal from one account, then, if it was accepted, a deposit of the same
 * amount into another. Each command goes to a random node that is up, with an idempotency key; when its outcome
 * is unknown (connection lost, node stopping, 503 not run, 504 outcome unknown) the client sends it again with the
 * same key, to any node,
 * until it gets a definite answer, so a transfer is never left half done and a command never applies twice.
 */
final class Clients {

    /**
     * One command a client sent and the definite answer it got.
     *
     * @param key     the idempotency key (the command id)
     * @param account the account it targeted
     * @param kind    "open", "deposit" or "withdraw"
     * @param amount  the amount moved
     * @param start   {@link System#nanoTime()} of the first send
     * @param end     {@link System#nanoTime()} of the definite answer
     */
    record Call(String key, String account, String kind, long amount, long start, long end) {
    }

    private final HttpClient http;
    private final List<NodeProcess> all;
    private final List<NodeProcess> up;
    private final ChaosRun.Settings settings;
    private final Map<String, Call> acknowledged = new ConcurrentHashMap<>();
    private final Map<String, Call> refused = new ConcurrentHashMap<>();
    private final java.util.Set<String> sent = ConcurrentHashMap.newKeySet();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Map<String, Long> events = new ConcurrentHashMap<>();
    private final AtomicLong retried = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Clients(HttpClient http, List<NodeProcess> nodes, ChaosRun.Settings settings) {
        this.http = http;
        this.all = List.copyOf(nodes);
        this.up = new CopyOnWriteArrayList<>(nodes);
        this.settings = settings;
    }

    static String account(int index) {
        return "acc-" + index;
    }

    void openAccounts() throws InterruptedException {
        for (int i = 0; i < settings.accounts(); i++) {
            String account = account(i);
            call("OpenAccount", "{\"accountId\":\"" + account + "\",\"owner\":\"owner-" + i + "\"}", "open-" + account,
                    account, "open", 0);
            call("Deposit", "{\"accountId\":\"" + account + "\",\"amount\":" + settings.initialBalance() + "}",
                    "initial-" + account, account, "deposit", settings.initialBalance());
        }
    }

    void start() {
        for (int c = 0; c < settings.clients(); c++) {
            int client = c;
            Thread thread = new Thread(() -> transfer(client), "chaos-client-" + c);
            thread.start();
            threads.add(thread);
        }
    }

    private void transfer(int client) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (long n = 0; running.get(); n++) {
            int from = random.nextInt(settings.accounts());
            int to = (from + 1 + random.nextInt(settings.accounts() - 1)) % settings.accounts();
            long amount = 1 + random.nextInt(100);
            String key = "c" + client + "-" + n;
            try {
                Outcome withdrawn = call("Withdraw", "{\"accountId\":\"" + account(from) + "\",\"amount\":" + amount
                        + "}", key + "-withdraw", account(from), "withdraw", amount);
                if (withdrawn == Outcome.ACKNOWLEDGED) {
                    // The money has left the source: the deposit is retried until it lands, even after stop.
                    call("Deposit", "{\"accountId\":\"" + account(to) + "\",\"amount\":" + amount + "}",
                            key + "-deposit", account(to), "deposit", amount);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    enum Outcome { ACKNOWLEDGED, REFUSED, FAILED }

    private Outcome call(String type, String body, String key, String account, String kind, long amount)
            throws InterruptedException {
        sent.add(key);
        long start = System.nanoTime();
        long giveUp = start + Duration.ofMinutes(2).toNanos();
        for (int attempt = 1; ; attempt++) {
            if (attempt > 1) {
                retried.incrementAndGet();
                Thread.sleep(20 + ThreadLocalRandom.current().nextInt(30));
            }
            if (System.nanoTime() > giveUp) {
                failures.add(key + " (" + type + " " + account + "): no definite answer within 2 minutes");
                return Outcome.FAILED;
            }
            List<NodeProcess> candidates = up;
            NodeProcess node = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
            HttpResponse<String> response;
            try {
                response = http.send(HttpRequest.newBuilder(node.uri("/commands/" + type))
                        .header("Idempotency-Key", key).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                continue;
            }
            int status = response.statusCode();
            Call call = new Call(key, account, kind, amount, start, System.nanoTime());
            if (status == 200) {
                acknowledged.put(key, call);
                return Outcome.ACKNOWLEDGED;
            }
            if (status == 409 && kind.equals("withdraw") && response.body().contains("InsufficientFunds")) {
                refused.put(key, call);
                return Outcome.REFUSED;
            }
            if (status == 503 || status == 504) {
                // 503: not run (or the node is going away); 504: outcome unknown. Either way the same key, sent
                // again to any node, gets the stored decision or runs the command once.
                continue;
            }
            failures.add(key + " (" + type + " " + account + "): HTTP " + status + " " + response.body());
            return Outcome.FAILED;
        }
    }

    void markDown(NodeProcess node) {
        up.remove(node);
    }

    void markUp(NodeProcess node) {
        if (!up.contains(node)) {
            up.add(node);
        }
    }

    void markEvent(String name, long nanoTime) {
        events.put(name, nanoTime);
    }

    void stopAndWait() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(Duration.ofMinutes(5).toMillis());
        }
    }

    Map<String, Call> acknowledged() {
        return acknowledged;
    }

    Map<String, Call> refused() {
        return refused;
    }

    /** @return the key of every command any client sent */
    java.util.Set<String> sent() {
        return sent;
    }

    List<String> failures() {
        return failures;
    }

    long retried() {
        return retried.get();
    }

    /** @return when each chaos event happened */
    Map<String, Long> events() {
        return events;
    }

    List<NodeProcess> nodes() {
        return all;
    }
}
