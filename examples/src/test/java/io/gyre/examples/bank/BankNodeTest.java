package io.gyre.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bank node's HTTP front door: what a client gets right and wrong. */
class BankNodeTest {

    private static EmbeddedPostgres postgres;
    private static BankNode node;
    private static int port;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        int clusterPort;
        try (ServerSocket http = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket cluster = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = http.getLocalPort();
            clusterPort = cluster.getLocalPort();
        }
        node = BankNode.start(Map.of("node", "bank-test", "cluster", "bank-" + UUID.randomUUID(),
                "http-port", Integer.toString(port), "bind-port", Integer.toString(clusterPort),
                "jdbc-url", postgres.getJdbcUrl("postgres", "postgres")));
    }

    @AfterAll
    static void stop() throws Exception {
        node.stop();
        postgres.close();
    }

    private HttpResponse<String> post(String type, String body, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/" + type))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void commands_run_and_business_refusals_and_bad_input_get_distinct_answers() throws Exception {
        assertThat(post("OpenAccount", "{\"accountId\":\"h-1\",\"owner\":\"ann\"}", null).statusCode()).isEqualTo(200);
        HttpResponse<String> deposit = post("Deposit", "{\"accountId\":\"h-1\",\"amount\":50}", "dep-1");
        assertThat(deposit.statusCode()).isEqualTo(200);
        assertThat(deposit.body()).contains("\"result\":50");
        assertThat(post("Deposit", "{\"accountId\":\"h-1\",\"amount\":50}", "dep-1").body())
                .as("the same key again: the stored result, no second deposit").contains("\"result\":50");

        HttpResponse<String> overdraft = post("Withdraw", "{\"accountId\":\"h-1\",\"amount\":500}", null);
        assertThat(overdraft.statusCode()).isEqualTo(409);
        assertThat(overdraft.body()).contains("InsufficientFunds").contains("\"transient\":false");

        HttpResponse<String> unknown = post("Steal", "{}", null);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("UnregisteredTypeException").contains("'Steal'");

        HttpResponse<String> malformed = post("Deposit", "{\"accountId\":", null);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("SerializationException");

        HttpResponse<String> missingTarget = post("Deposit", "{\"amount\":5}", null);
        assertThat(missingTarget.statusCode()).isEqualTo(400);
        assertThat(missingTarget.body()).contains("MissingTargetAggregateIdException");

        HttpResponse<String> nobody = post("Deposit", "{\"accountId\":\"nobody\",\"amount\":5}", null);
        assertThat(nobody.statusCode()).isEqualTo(404);

        HttpResponse<String> oversized = post("Deposit", "{\"accountId\":\"h-1\",\"amount\":5,\"x\":\""
                + "y".repeat(1_100_000) + "\"}", null);
        assertThat(oversized.statusCode()).isEqualTo(413);

        assertThat(post("Withdraw", "{\"accountId\":\"h-1\",\"amount\":10}", null).body()).contains("\"result\":40");
    }

    @Test
    void a_request_timeout_that_is_not_a_number_of_milliseconds_is_refused_naming_it() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/commands/Deposit")).header("Request-Timeout", "soon")
                .POST(HttpRequest.BodyPublishers.ofString("{\"accountId\":\"h-1\",\"amount\":1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("Request-Timeout").contains("'soon'");
    }

    @Test
    void with_an_api_token_configured_only_requests_that_carry_it_get_through() throws Exception {
        int tokenPort;
        int clusterPort;
        try (ServerSocket http = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket cluster = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            tokenPort = http.getLocalPort();
            clusterPort = cluster.getLocalPort();
        }
        BankNode guarded = BankNode.start(Map.of("node", "bank-token", "cluster", "bank-" + UUID.randomUUID(),
                "http-port", Integer.toString(tokenPort), "bind-port", Integer.toString(clusterPort),
                "jdbc-url", postgres.getJdbcUrl("postgres", "postgres"), "api-token", "s3cret-token"));
        try {
            URI open = URI.create("http://127.0.0.1:" + tokenPort + "/commands/OpenAccount");
            String body = "{\"accountId\":\"t-1\",\"owner\":\"tom\"}";
            HttpResponse<String> without = HTTP.send(HttpRequest.newBuilder(open)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(without.statusCode()).isEqualTo(401);
            assertThat(without.headers().firstValue("WWW-Authenticate")).contains("Bearer");
            HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(open).header("Authorization",
                    "Bearer guess").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).isEqualTo(401);
            HttpResponse<String> right = HTTP.send(HttpRequest.newBuilder(open).header("Authorization",
                    "Bearer s3cret-token").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(right.statusCode()).as(right.body()).isEqualTo(200);

            URI account = URI.create("http://127.0.0.1:" + tokenPort + "/accounts/t-1");
            HttpResponse<String> readWithout = HTTP.send(HttpRequest.newBuilder(account).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(readWithout.statusCode()).as("reads need the token too").isEqualTo(401);
            HttpResponse<String> readWith = HTTP.send(HttpRequest.newBuilder(account)
                    .header("Authorization", "Bearer s3cret-token").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(readWith.statusCode()).as("found, or not yet in the read model: " + readWith.body())
                    .isIn(200, 404);
        } finally {
            guarded.stop();
        }
    }

    @Test
    void health_names_the_node_and_the_ring() throws Exception {
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"node\":\"bank-test\"").contains("\"members\":[\"bank-test\"]");
    }

}
