package io.gyre.examples.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.examples.bank.InsufficientFundsException;
import io.gyre.examples.bench.Databases;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A command held up on a paused node while its client gives up and sends it again elsewhere (the fault-injection
 * scenario of an independent review): the first decision on its key is final. Two bank node processes on one
 * PostgreSQL; SIGSTOP and SIGCONT freeze and thaw one of them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ZombieCommandTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<NodeProcess> nodes = new ArrayList<>();
    private Path workDir;
    private EmbeddedPostgres postgres;
    private Databases databases;
    private JdbcEventStore store;
    private NodeProcess paused;
    private NodeProcess running;

    @BeforeAll
    void startNodes() throws Exception {
        workDir = Files.createTempDirectory("gyre-zombie");
        postgres = EmbeddedPostgres.builder().setServerConfig("max_connections", "100").start();
        String jdbcUrl = postgres.getJdbcUrl("postgres", "postgres");
        String cluster = "zombie-" + UUID.randomUUID().toString().substring(0, 8);
        int bindPort = freePorts(150);
        String initialHosts = "127.0.0.1:" + (bindPort + 1) + ",127.0.0.1:" + (bindPort + 2);
        for (int i = 1; i <= 2; i++) {
            nodes.add(new NodeProcess("node-" + i, bindPort + 50 + i, List.of("--node=node-" + i,
                    "--cluster=" + cluster, "--http-port=" + (bindPort + 50 + i), "--bind-port=" + (bindPort + i),
                    "--port-range=0", "--initial-hosts=" + initialHosts, "--jdbc-url=" + jdbcUrl),
                    workDir.resolve("node-" + i + ".log")));
        }
        for (NodeProcess node : nodes) {
            node.start();
        }
        for (NodeProcess node : nodes) {
            node.awaitHealthy(http, 2, Duration.ofSeconds(90));
        }
        paused = nodes.get(0);
        running = nodes.get(1);
        databases = new Databases();
        store = JdbcEventStore.builder(databases.postgresAt(jdbcUrl)).build();
    }

    @AfterAll
    void stopNodes() throws Exception {
        for (NodeProcess node : nodes) {
            if (node.isAlive()) {
                node.resume();
                node.kill();
            }
        }
        if (store != null) {
            store.close();
        }
        if (databases != null) {
            databases.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        io.gyre.examples.bank.TempFolders.deleteRecursively(workDir);
    }

    @org.junit.jupiter.api.BeforeEach
    void bothNodesOnTheRing() throws Exception {
        // A node thawed by an earlier test may still be merging back into the cluster.
        for (NodeProcess node : nodes) {
            node.awaitHealthy(http, 2, Duration.ofSeconds(60));
        }
    }

    @Test
    void a_refusal_is_final_even_when_the_first_delivery_wakes_up_to_a_balance_that_would_allow_it()
            throws Exception {
        String account = "zombie-refused";
        assertThat(post(running, "OpenAccount", "{\"accountId\":\"" + account + "\",\"owner\":\"z\"}", "open-" + account)
                .statusCode()).isEqualTo(200);
        assertThat(post(running, "Deposit", deposit(account, 50), "dep1-" + account).statusCode()).isEqualTo(200);

        long answeredBefore = answered(paused);
        paused.pause();
        try {
            assertThatThrownBy(() -> post(paused, "Withdraw", withdraw(account, 80), "w-" + account,
                    Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
            HttpResponse<String> resent = post(running, "Withdraw", withdraw(account, 80), "w-" + account);
            assertThat(resent.statusCode()).as(resent.body()).isEqualTo(409);
            assertThat(resent.body()).contains("InsufficientFunds");
            // The balance grows: a second decision on the same key would now allow the withdrawal.
            assertThat(post(running, "Deposit", deposit(account, 100), "dep2-" + account).statusCode())
                    .isEqualTo(200);
        } finally {
            paused.resume();
        }
        awaitAnswered(paused, answeredBefore + 1);

        CommandRecord record = store.findCommand(StreamId.of("Account", account), "w-" + account).orElseThrow();
        assertThat(record.outcome()).isInstanceOf(CommandOutcome.Refusal.class);
        assertThat(((CommandOutcome.Refusal) record.outcome()).exceptionType())
                .isEqualTo(InsufficientFundsException.class.getName());
        assertThat(events(account)).extracting(StoredEvent::commandId).doesNotContain("w-" + account);
        assertThat(balance(account)).as("nothing withdrawn: 50 + 100").isEqualTo(150);
    }

    @Test
    void a_first_delivery_that_wakes_up_after_its_resend_succeeded_is_answered_from_the_store() throws Exception {
        String account = "zombie-succeeded";
        assertThat(post(running, "OpenAccount", "{\"accountId\":\"" + account + "\",\"owner\":\"z\"}", "open-" + account)
                .statusCode()).isEqualTo(200);
        assertThat(post(running, "Deposit", deposit(account, 100), "dep1-" + account).statusCode()).isEqualTo(200);

        long answeredBefore = answered(paused);
        paused.pause();
        try {
            assertThatThrownBy(() -> post(paused, "Withdraw", withdraw(account, 30), "w-" + account,
                    Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
            HttpResponse<String> resent = post(running, "Withdraw", withdraw(account, 30), "w-" + account);
            assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        } finally {
            paused.resume();
        }
        awaitAnswered(paused, answeredBefore + 1);

        assertThat(events(account).stream().filter(event -> event.commandId().equals("w-" + account)).count())
                .as("the withdrawal is stored once").isEqualTo(1);
        assertThat(balance(account)).isEqualTo(70);
    }

    @Test
    void a_copy_forwarded_to_an_owner_paused_past_failure_detection_cannot_undo_a_refusal() throws Exception {
        // Find accounts the paused node owns: while it is frozen, commands forwarded to it get no answer.
        List<String> accounts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String account = "forwarded-" + i;
            assertThat(post(running, "OpenAccount", "{\"accountId\":\"" + account + "\",\"owner\":\"z\"}",
                    "open-" + account).statusCode()).isEqualTo(200);
            assertThat(post(running, "Deposit", deposit(account, 50), "dep1-" + account).statusCode())
                    .isEqualTo(200);
            accounts.add(account);
        }
        paused.pause();
        List<String> heldUp = new ArrayList<>();
        try {
            for (String account : accounts) {
                HttpResponse<String> response = post(running, "Withdraw", withdraw(account, 80), "w-" + account,
                        Duration.ofSeconds(2), Duration.ofMillis(300));
                if (response.statusCode() == 504) {
                    assertThat(response.body()).contains("\"idempotencyKey\":\"w-" + account + "\"");
                    heldUp.add(account);
                } else {
                    assertThat(response.statusCode()).as(account + ": " + response.body()).isEqualTo(409);
                }
            }
            assertThat(heldUp).as("accounts owned by the paused node").isNotEmpty();
            // Failure detection drops the paused node; the survivor owns everything and decides the re-sends.
            running.awaitHealthy(http, 1, Duration.ofSeconds(30));
            for (String account : heldUp) {
                HttpResponse<String> resent = post(running, "Withdraw", withdraw(account, 80), "w-" + account);
                assertThat(resent.statusCode()).as(resent.body()).isEqualTo(409);
                assertThat(post(running, "Deposit", deposit(account, 100), "dep2-" + account).statusCode())
                        .isEqualTo(200);
            }
        } finally {
            paused.resume();
        }
        // The thawed node reads the copies forwarded to it before the pause and may run them; the store refuses.
        running.awaitHealthy(http, 2, Duration.ofSeconds(60));
        for (String account : heldUp) {
            CommandRecord record = store.findCommand(StreamId.of("Account", account), "w-" + account).orElseThrow();
            assertThat(record.outcome()).isInstanceOf(CommandOutcome.Refusal.class);
            assertThat(events(account)).extracting(StoredEvent::commandId).doesNotContain("w-" + account);
            assertThat(balance(account)).isEqualTo(150);
        }
    }

    private static String deposit(String account, long amount) {
        return "{\"accountId\":\"" + account + "\",\"amount\":" + amount + "}";
    }

    private static String withdraw(String account, long amount) {
        return deposit(account, amount);
    }

    private HttpResponse<String> post(NodeProcess node, String type, String body, String key) throws Exception {
        return post(node, type, body, key, Duration.ofSeconds(20));
    }

    private HttpResponse<String> post(NodeProcess node, String type, String body, String key, Duration clientTimeout)
            throws Exception {
        return post(node, type, body, key, clientTimeout, clientTimeout);
    }

    private HttpResponse<String> post(NodeProcess node, String type, String body, String key, Duration clientTimeout,
                                      Duration commandTimeout) throws Exception {
        return http.send(HttpRequest.newBuilder(node.uri("/commands/" + type)).header("Idempotency-Key", key)
                .header("Request-Timeout", Long.toString(commandTimeout.toMillis()))
                .header("Content-Type", "application/json").timeout(clientTimeout)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private long answered(NodeProcess node) throws Exception {
        String health = http.send(HttpRequest.newBuilder(node.uri("/health")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher matcher = Pattern.compile("\"answered\":(\\d+)").matcher(health);
        assertThat(matcher.find()).as(health).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    private void awaitAnswered(NodeProcess node, long count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (answered(node) < count) {
            assertThat(System.nanoTime() < deadline).as("the thawed node answered its held-up request").isTrue();
            Thread.sleep(20);
        }
    }

    private List<StoredEvent> events(String account) {
        try (var stream = store.readStream(StreamId.of("Account", account))) {
            return stream.toList();
        }
    }

    private long balance(String account) {
        long balance = 0;
        for (StoredEvent event : events(account)) {
            Matcher amount = Pattern.compile("\"amount\":\\s*(\\d+)").matcher(event.payload());
            if (event.type().endsWith("Deposited") && amount.find()) {
                balance += Long.parseLong(amount.group(1));
            } else if (event.type().endsWith("Withdrawn") && amount.find()) {
                balance -= Long.parseLong(amount.group(1));
            }
        }
        return balance;
    }

    private static int freePorts(int count) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            // Below the kernel's ephemeral range (32768 and up by default), where outgoing connections would take
            // ports of the block between this check and the nodes' binds.
            int base = 10_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000);
            boolean free = true;
            for (int port = base; port <= base + count && free; port++) {
                try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                    socket.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free block of ports on 127.0.0.1");
    }
}
