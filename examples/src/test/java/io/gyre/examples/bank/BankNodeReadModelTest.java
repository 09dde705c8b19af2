package io.gyre.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bank node's query side: {@code GET /accounts/{id}} answered from the balances read model, which follows the
 * write side, shows eventually what the aggregates hold, and survives a restart without applying an event twice.
 * Each test uses accounts of its own on one PostgreSQL.
 */
class BankNodeReadModelTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static EmbeddedPostgres postgres;
    private final List<BankNode> running = new ArrayList<>();
    private int port;

    @BeforeAll
    static void startDatabase() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopDatabase() throws Exception {
        postgres.close();
    }

    @AfterEach
    void stopNodes() {
        running.forEach(BankNode::stop);
    }

    /** Starts a node on the shared database, its HTTP port in {@link #port}. */
    private BankNode startNode(String name) throws Exception {
        int clusterPort;
        try (ServerSocket http = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket cluster = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = http.getLocalPort();
            clusterPort = cluster.getLocalPort();
        }
        BankNode node = BankNode.start(Map.of("node", name, "cluster", "bank-" + UUID.randomUUID(),
                "http-port", Integer.toString(port), "bind-port", Integer.toString(clusterPort),
                "jdbc-url", postgres.getJdbcUrl("postgres", "postgres")));
        running.add(node);
        return node;
    }

    private HttpResponse<String> post(String type, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/" + type))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String accountId) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/accounts/" + accountId))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The write side's balances, as the aggregates report them: every deposit and withdrawal answers with the
     * account's balance after it.
     */
    private static final class Ledger {
        final Map<String, Long> balances = new TreeMap<>();

        long total() {
            return balances.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private void open(Ledger ledger, String accountId) throws Exception {
        HttpResponse<String> opened = post("OpenAccount", "{\"accountId\":\"" + accountId + "\",\"owner\":\"ann\"}");
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
        ledger.balances.put(accountId, 0L);
    }

    /** Deposits into random accounts, and transfers between them: a withdrawal, then a deposit if it was allowed. */
    private void moveMoney(Ledger ledger, int operations) throws Exception {
        List<String> accounts = List.copyOf(ledger.balances.keySet());
        for (int i = 0; i < operations; i++) {
            String from = accounts.get(ThreadLocalRandom.current().nextInt(accounts.size()));
            String to = accounts.get(ThreadLocalRandom.current().nextInt(accounts.size()));
            long amount = 1 + ThreadLocalRandom.current().nextInt(50);
            if (i % 3 == 0) {
                deposit(ledger, to, amount * 3);
                continue;
            }
            HttpResponse<String> withdrawn = post("Withdraw", "{\"accountId\":\"" + from + "\",\"amount\":" + amount
                    + "}");
            if (withdrawn.statusCode() == 409) {
                continue;
            }
            assertThat(withdrawn.statusCode()).as(withdrawn.body()).isEqualTo(200);
            ledger.balances.put(from, JSON.readTree(withdrawn.body()).get("result").asLong());
            deposit(ledger, to, amount);
        }
    }

    private void deposit(Ledger ledger, String accountId, long amount) throws Exception {
        HttpResponse<String> deposited = post("Deposit", "{\"accountId\":\"" + accountId + "\",\"amount\":" + amount
                + "}");
        assertThat(deposited.statusCode()).as(deposited.body()).isEqualTo(200);
        ledger.balances.put(accountId, JSON.readTree(deposited.body()).get("result").asLong());
    }

    /** @return the read model's balance of each account of the ledger, as GET /accounts/{id} answers it */
    private Map<String, Long> readModel(Ledger ledger) throws Exception {
        Map<String, Long> seen = new TreeMap<>();
        for (String accountId : ledger.balances.keySet()) {
            HttpResponse<String> account = get(accountId);
            if (account.statusCode() == 200) {
                seen.put(accountId, JSON.readTree(account.body()).get("balance").asLong());
            }
        }
        return seen;
    }

    private void awaitReadModel(Ledger ledger) throws Exception {
        await("the read model shows the write side's balances " + ledger.balances, () -> {
            try {
                return readModel(ledger).equals(ledger.balances);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, () -> {
            try {
                return "read model " + readModel(ledger);
            } catch (Exception e) {
                return "read model unreadable: " + e;
            }
        });
    }

    private static void await(String what, Supplier<Boolean> condition, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Waited " + TIMEOUT.toSeconds() + " s for " + what + "; " + state.get());
            }
            Thread.sleep(50);
        }
    }

    @Test
    void after_deposits_and_transfers_each_account_eventually_shows_the_balance_the_write_side_holds()
            throws Exception {
        startNode("bank-read");
        Ledger ledger = new Ledger();
        String prefix = "rm-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        for (int i = 0; i < 4; i++) {
            open(ledger, prefix + i);
        }
        moveMoney(ledger, 40);

        awaitReadModel(ledger);

        JsonNode account = JSON.readTree(get(prefix + 0).body());
        assertThat(account.get("accountId").asText()).isEqualTo(prefix + 0);
        assertThat(account.get("owner").asText()).isEqualTo("ann");
        assertThat(account.get("lastEventPosition").asLong()).as("the position of the last event it reflects")
                .isPositive();
        assertThat(account.get("updatedAt").asText()).isNotBlank();
        JsonNode freshness = account.get("readModel");
        assertThat(freshness.get("consistency").asText()).isEqualTo("eventual");
        assertThat(freshness.get("processor").asText()).isEqualTo(BalancesProjection.PROCESSOR);
        assertThat(freshness.get("segmentsHere").asText()).isEqualTo("4 of 4");
        assertThat(freshness.get("lagEvents").isNumber()).as(freshness.toString()).isTrue();
        assertThat(freshness.has("caughtUp")).isTrue();
    }

    @Test
    void an_unknown_account_is_404_and_says_the_read_model_may_lag_and_a_malformed_request_is_refused()
            throws Exception {
        startNode("bank-read-404");

        HttpResponse<String> unknown = get("nobody-" + UUID.randomUUID());
        assertThat(unknown.statusCode()).isEqualTo(404);
        JsonNode body = JSON.readTree(unknown.body());
        assertThat(body.get("error").asText()).isEqualTo("AccountNotFound");
        assertThat(body.get("message").asText()).contains("eventually consistent");
        assertThat(body.get("readModel").get("consistency").asText()).isEqualTo("eventual");

        HttpResponse<String> nested = get("a/b");
        assertThat(nested.statusCode()).isEqualTo(400);
        assertThat(nested.body()).contains("/accounts/a/b");

        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/accounts/x")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(405);
    }

    @Test
    void a_restarted_node_resumes_from_the_stored_token_and_applies_no_event_twice() throws Exception {
        BankNode first = startNode("bank-read-restart");
        Ledger ledger = new Ledger();
        String prefix = "rs-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        for (int i = 0; i < 5; i++) {
            open(ledger, prefix + i);
        }
        moveMoney(ledger, 30);
        awaitReadModel(ledger);
        first.stop();
        running.remove(first);
        List<StoredToken> tokensAtStop = storedTokens();
        assertThat(tokensAtStop).as("the processor stored its progress").hasSize(BalancesProjection.SEGMENTS)
                .anyMatch(token -> token.position() > 0);

        startNode("bank-read-restart");
        // The balances increment without any de-duplication, and the openings insert a row once: had the restarted
        // node replayed an event already applied, a balance would be off or an opening would fail on its key.
        moveMoney(ledger, 30);
        awaitReadModel(ledger);

        Map<String, Long> readModel = readModel(ledger);
        assertThat(readModel.values().stream().mapToLong(Long::longValue).sum())
                .as("the read model's total equals the write side's").isEqualTo(ledger.total());
        List<StoredToken> tokensNow = storedTokens();
        for (int segment = 0; segment < BalancesProjection.SEGMENTS; segment++) {
            assertThat(tokensNow.get(segment)).as("segment %d went on from where the first node stopped", segment)
                    .isGreaterThanOrEqualTo(tokensAtStop.get(segment));
        }
        assertThat(rowsOf(prefix)).as("one row per account").isEqualTo(ledger.balances.size());
    }

    /** A segment's stored token, ordered as the log is on PostgreSQL: by commit order, then position. */
    private record StoredToken(long commitOrder, long position) implements Comparable<StoredToken> {
        @Override
        public int compareTo(StoredToken other) {
            int byCommit = Long.compare(commitOrder, other.commitOrder);
            return byCommit != 0 ? byCommit : Long.compare(position, other.position);
        }
    }

    /** @return the stored token of each segment of the balances processor, in segment order */
    private static List<StoredToken> storedTokens() throws Exception {
        List<StoredToken> tokens = new ArrayList<>();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT commit_order, position FROM gyre_tokens "
                     + "WHERE processor_name = ? ORDER BY segment")) {
            query.setString(1, BalancesProjection.PROCESSOR);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    tokens.add(new StoredToken(rows.getLong(1), rows.getLong(2)));
                }
            }
        }
        return tokens;
    }

    private static long rowsOf(String prefix) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT COUNT(*) FROM "
                     + BalancesProjection.TABLE + " WHERE account_id LIKE ?")) {
            query.setString(1, prefix + "%");
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
