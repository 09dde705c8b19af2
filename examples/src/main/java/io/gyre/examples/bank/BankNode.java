package io.gyre.examples.bank;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
import io.gyre.GyreException;
import io.gyre.GyreTransientException;
import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.CommandRefusedException;
import io.gyre.command.Deadline;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.processing.GlobalLogStall;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import io.gyre.routing.jgroups.JGroupsCommandBus;
import io.gyre.serialization.SerializedValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * One node of the bank service: a Gyre node on PostgreSQL in a JGroups cluster, with an HTTP front door.
 *
 * <pre>
 * POST /commands/{type}   body: the command as JSON, e.g. POST /commands/Withdraw {"accountId":"a-1","amount":5}
 *                         header Idempotency-Key: re-sending with the same key never applies a command twice
 *                         header Request-Timeout: the client's deadline in milliseconds (default 10,000)
 *                         200 {"result": ...}   409 business refusal   4xx bad input
 *                         503 not run (transient): send again      504 outcome unknown: send again, same key
 * GET  /accounts/{id}     200 {"accountId", "owner", "balance", "lastEventPosition", "updatedAt", "readModel": {...}}
 *                         from the balances read model, which is eventually consistent: "readModel" says how far
 *                         behind the event store it may be, and "logStall" (else null) what holds it back when a
 *                         transaction left open on the database stalls the global log; 404 when the read model has
 *                         no such account (yet)
 * GET  /health            200 {"node": ..., "members": [...], "answered": commands answered so far}
 * </pre>
 *
 * <p>The read model ({@link BalancesProjection}, table {@value BalancesProjection#TABLE}) lives in the event store's
 * PostgreSQL database here, with its processor's tokens beside it; it could as well be a database of its own.
 *
 * <p>Arguments, as {@code --key=value}: {@code node}, {@code cluster}, {@code http-port}, {@code bind-port}
 * (first JGroups port), {@code port-range} (ports above it to try, and to probe on each initial host; default 20),
 * {@code initial-hosts} ({@code host:port,host:port}; default this node's own address and port), {@code jdbc-url},
 * {@code jdbc-user}, {@code jdbc-password}, {@code clock-offset-seconds}, {@code balances-segments} (the balances
 * processor's segment count, the same on every node; default {@value BalancesProjection#SEGMENTS}), {@code api-token} (or the environment
 * variable {@code GYRE_API_TOKEN}: commands and account reads then need {@code Authorization: Bearer <token>}; health
 * stays open). SIGTERM leaves the cluster gracefully: requests in progress finish first.
 */
public final class BankNode {

    private static final int MAX_BODY_BYTES = 1024 * 1024;
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);

    private final Gyre node;
    private final JGroupsCommandBus bus;
    private final HttpServer server;
    private final HikariDataSource pool;
    private final Balances balances;
    private final ObjectMapper json = new ObjectMapper();
    private final String name;
    private final ExecutorService requests = Executors.newFixedThreadPool(16);
    private final java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger inProgress = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean stopping;
    /** The token a request must carry ({@code Authorization: Bearer <token>}), or null when none is configured. */
    private final byte @Nullable [] apiToken;

    private BankNode(Map<String, String> options) throws IOException {
        this.name = options.getOrDefault("node", "bank-node");
        String token = options.getOrDefault("api-token", System.getenv("GYRE_API_TOKEN"));
        this.apiToken = token == null || token.isBlank() ? null : token.getBytes(StandardCharsets.UTF_8);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(required(options, "jdbc-url"));
        config.setUsername(options.getOrDefault("jdbc-user", "postgres"));
        config.setPassword(options.getOrDefault("jdbc-password", ""));
        config.setMaximumPoolSize(16);
        // Three nodes and the database starting together on two cores can take more than 2 s to hand out the first
        // connection; commands carry their own deadline, so a longer wait here costs nothing.
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(-1);
        config.setPoolName(name + "-db");
        this.pool = new HikariDataSource(config);
        JGroupsCommandBus.Builder cluster = JGroupsCommandBus.builder().cluster(options.getOrDefault("cluster", "bank"))
                .nodeName(name).bindPort(Integer.parseInt(options.getOrDefault("bind-port", "7800")),
                        Integer.parseInt(options.getOrDefault("port-range", "20")));
        String hosts = options.get("initial-hosts");
        if (hosts != null && !hosts.isBlank()) {
            cluster.initialHosts(Arrays.stream(hosts.split(",")).map(String::trim).map(BankNode::hostAndPort).toList());
        }
        this.bus = cluster.build();
        Clock clock = Clock.offset(Clock.systemUTC(),
                Duration.ofSeconds(Long.parseLong(options.getOrDefault("clock-offset-seconds", "0"))));
        JdbcEventStore events = JdbcEventStore.postgres(pool);
        // The read model's table and its processor's tokens (JdbcProcessingStore) share one database, so that each
        // batch's balance changes and its token commit in one transaction.
        BalancesProjection.createTable(pool);
        JdbcProcessingStore readModel = JdbcProcessingStore.create(pool);
        this.balances = new Balances(pool);
        this.node = Gyre.builder().name(name).eventStore(events).aggregate(Account.class)
                .processor(BalancesProjection.processor(readModel, Integer.parseInt(
                        options.getOrDefault("balances-segments", Integer.toString(BalancesProjection.SEGMENTS)))))
                .commandBus(bus).clock(clock).commandTimeout(Duration.ofSeconds(10)).start();
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1",
                Integer.parseInt(options.getOrDefault("http-port", "8080"))), 128);
        server.createContext("/commands/", exchange -> {
            if (stopping) {
                exchange.getRequestBody().close();
                respondAndClose(exchange, 503, error("Stopping", "node " + name + " is stopping; send the command "
                        + "to another node", true));
                return;
            }
            if (authorized(exchange)) {
                inProgress.incrementAndGet();
                boolean handedOver = false;
                try {
                    handedOver = command(exchange);
                } finally {
                    if (!handedOver) {
                        inProgress.decrementAndGet();
                    }
                }
            }
        });
        server.createContext("/accounts/", exchange -> {
            try {
                if (stopping) {
                    respond(exchange, 503, error("Stopping", "node " + name + " is stopping; ask another node", true));
                } else if (authorized(exchange)) {
                    account(exchange);
                }
            } finally {
                exchange.close();
            }
        });
        server.createContext("/health", exchange -> {
            try {
                health(exchange);
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(requests);
        server.start();
    }

    /**
     * @param args {@code --key=value} options
     * @throws IOException when the HTTP port cannot be bound
     */
    public static void main(String[] args) throws IOException {
        BankNode bank = start(CommandLine.options(args));
        Runtime.getRuntime().addShutdownHook(new Thread(bank::stop, "bank-node-shutdown"));
        System.out.println("READY " + bank.name);
    }

    /**
     * @param options the node's settings, as for {@link #main}
     * @return the running node
     * @throws IOException when the HTTP port cannot be bound
     */
    static BankNode start(Map<String, String> options) throws IOException {
        return new BankNode(options);
    }

    /** Finishes the requests in progress, leaves the cluster and releases the database pool. */
    void stop() {
        // New commands are refused (503: send them to another node); those in progress finish and are answered
        // before the node leaves the cluster, waiting at most the default request timeout. The JDK server's own
        // stop(delay) would wait the whole delay whenever a client keeps an idle connection open.
        stopping = true;
        long deadline = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
        while (inProgress.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        server.stop(0);
        node.close();
        requests.shutdown();
        pool.close();
        System.out.println("STOPPED " + name);
    }

    private void health(HttpExchange exchange) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("node", name);
        body.put("members", bus.members());
        body.put("answered", answered.get());
        respond(exchange, 200, body);
    }

    /**
     * Answers {@code GET /accounts/{id}} from the balances read model. The query is a primary-key lookup, so it runs
     * on the request thread; a database that does not answer gets a 503, which a client may retry on any node.
     */
    private void account(HttpExchange exchange) throws IOException {
        exchange.getRequestBody().close();
        if (!exchange.getRequestMethod().equals("GET")) {
            respond(exchange, 405, error("MethodNotAllowed", "use GET", false));
            return;
        }
        String accountId = exchange.getRequestURI().getPath().substring("/accounts/".length());
        if (accountId.isBlank() || accountId.contains("/")) {
            respond(exchange, 400, error("BadAccountId", "use GET /accounts/{id} with one account id, but the path "
                    + "was '" + exchange.getRequestURI().getPath() + "'", false));
            return;
        }
        Optional<Balances.AccountBalance> found;
        try {
            found = balances.find(accountId);
        } catch (SQLException e) {
            respond(exchange, 503, error("ReadModelUnavailable", "reading " + BalancesProjection.TABLE + " failed "
                    + "(SQLState " + e.getSQLState() + "): " + e.getMessage(), true));
            return;
        }
        // How far behind the read model may be goes with every answer, found or not: a 404 for an account opened
        // a moment ago is the read model lagging, not the account missing.
        Map<String, Object> freshness = freshness();
        if (found.isEmpty()) {
            Map<String, Object> body = error("AccountNotFound", "the read model has no account '" + accountId
                    + "'; it is eventually consistent, so an account opened a moment ago may not show yet", false);
            body.put("readModel", freshness);
            respond(exchange, 404, body);
            return;
        }
        Balances.AccountBalance account = found.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", account.accountId());
        body.put("owner", account.owner());
        body.put("balance", account.balance());
        body.put("lastEventPosition", account.lastEventPosition());
        body.put("updatedAt", account.updatedAt().toString());
        body.put("readModel", freshness);
        respond(exchange, 200, body);
    }

    /**
     * How far the balances processor has got on this node: whether every segment it runs here has handled all it
     * has read of the log, and the largest lag in events and in time. Segments another node runs (or that the
     * token store fenced because a newer node took them) are left out; when none runs here, the lag is unknown
     * here and is null.
     */
    private Map<String, Object> freshness() {
        ProcessorStatus status = node.processors().status(BalancesProjection.PROCESSOR);
        List<SegmentStatus> here = status.segments().stream()
                .filter(segment -> segment.local() && segment.state() != SegmentState.FENCED).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("consistency", "eventual");
        body.put("processor", status.name());
        body.put("segmentsHere", here.size() + " of " + status.segments().size());
        if (here.isEmpty()) {
            body.put("caughtUp", null);
            body.put("lagEvents", null);
            body.put("lagMillis", null);
        } else {
            body.put("caughtUp", here.stream().allMatch(segment -> segment.state() == SegmentState.LIVE
                    && segment.lagEvents() <= 0));
            body.put("lagEvents", here.stream().mapToLong(SegmentStatus::lagEvents).max().orElse(0));
            body.put("lagMillis", here.stream().map(SegmentStatus::lagTime).filter(Objects::nonNull)
                    .mapToLong(Duration::toMillis).max().orElse(0));
        }
        body.put("logStall", stall(status.logStall()));
        return body;
    }

    /**
     * The global log's stall that holds the read model back, or null: while a transaction left open on the database
     * server stalls the log, the segments look caught up, yet newer events do not reach the read model.
     */
    private static @Nullable Map<String, Object> stall(@Nullable GlobalLogStall stall) {
        if (stall == null) {
            return null;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("since", stall.since().toString());
        body.put("heldForSeconds", stall.heldFor().toSeconds());
        body.put("checkedAt", stall.checkedAt().toString());
        body.put("blockingSessions", stall.blockingSessions().stream().map(session -> {
            Map<String, Object> described = new LinkedHashMap<>();
            described.put("pid", session.sessionId());
            described.put("database", session.database());
            described.put("state", session.state());
            described.put("transactionStart", session.transactionStart() == null ? null
                    : session.transactionStart().toString());
            return described;
        }).toList());
        body.put("message", stall.message());
        return body;
    }

    /**
     * Checks the API token when one is configured: a request without it, or with another, gets 401 and nothing
     * else. The comparison takes the same time whatever the token sent, so the token cannot be guessed by timing.
     */
    private boolean authorized(HttpExchange exchange) throws IOException {
        if (apiToken == null) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        byte[] sent = header != null && header.startsWith("Bearer ")
                ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (java.security.MessageDigest.isEqual(sent, apiToken)) {
            return true;
        }
        exchange.getRequestBody().close();
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        respondAndClose(exchange, 401, error("Unauthorized", "send the API token as 'Authorization: Bearer <token>'",
                false));
        return false;
    }

    /**
     * Handles a command without parking the request thread on it: the response is written when the command's
     * future completes, on the HTTP executor, so a slow owner holds up only its own requests.
     *
     * @return true when the command was sent and its response will be written later; false when it was answered
     */
    private boolean command(HttpExchange exchange) throws IOException {
        CommandMessage message;
        try {
            if (!exchange.getRequestMethod().equals("POST")) {
                respondAndClose(exchange, 405, error("MethodNotAllowed", "use POST", false));
                return false;
            }
            String type = exchange.getRequestURI().getPath().substring("/commands/".length());
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY_BYTES + 1);
            }
            if (body.length > MAX_BODY_BYTES) {
                respondAndClose(exchange, 413, error("PayloadTooLarge", "commands are limited to " + MAX_BODY_BYTES
                        + " bytes", false));
                return false;
            }
            try {
                Duration timeout = requestTimeout(exchange);
                Object payload = node.serializer().deserialize(
                        new SerializedValue(type, new String(body, StandardCharsets.UTF_8)));
                message = CommandMessage.of(payload);
                String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
                if (key != null && !key.isBlank()) {
                    message = message.withCommandId(key);
                }
                message = message.withDeadline(Deadline.after(timeout));
            } catch (GyreException | IllegalArgumentException e) {
                respondAndClose(exchange, 400, error(e.getClass().getSimpleName(), e.getMessage(), false));
                return false;
            }
        } catch (IOException | RuntimeException e) {
            exchange.close();
            throw e;
        }
        String commandId = message.commandId();
        node.commandGateway().send(message).whenCompleteAsync((result, failure) -> {
            try {
                if (failure == null) {
                    Map<String, Object> ok = new LinkedHashMap<>();
                    ok.put("result", result);
                    respond(exchange, 200, ok);
                } else {
                    Throwable cause = failure instanceof java.util.concurrent.CompletionException
                            && failure.getCause() != null ? failure.getCause() : failure;
                    Map<String, Object> body = error(typeOf(cause), String.valueOf(cause.getMessage()),
                            GyreTransientException.isCauseOf(cause));
                    if (cause instanceof CommandOutcomeUnknownException) {
                        // Re-sending under this key returns the stored outcome, or runs the command once.
                        body.put("idempotencyKey", commandId);
                        exchange.getResponseHeaders().set("Idempotency-Key", commandId);
                    }
                    if (cause instanceof CommandNotExecutedException) {
                        body.put("executed", false);
                    }
                    respond(exchange, statusOf(cause), body);
                }
            } catch (IOException e) {
                // The client went away; its command's outcome stands and a re-send with its key finds it.
            } finally {
                answered.incrementAndGet();
                exchange.close();
                inProgress.decrementAndGet();
            }
        }, requests);
        return true;
    }

    /**
     * The client's deadline, from the {@code Request-Timeout} header in milliseconds (default 10 s, at most 5
     * minutes): it becomes the command's deadline, so a command the client stopped waiting for is never run late.
     */
    private static Duration requestTimeout(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("Request-Timeout");
        if (header == null || header.isBlank()) {
            return DEFAULT_TIMEOUT;
        }
        long millis;
        try {
            millis = Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Request-Timeout must be a number of milliseconds, but was '"
                    + header + "'");
        }
        if (millis < 1 || millis > MAX_TIMEOUT.toMillis()) {
            throw new IllegalArgumentException("Request-Timeout must be between 1 and " + MAX_TIMEOUT.toMillis()
                    + " milliseconds, but was " + millis);
        }
        return Duration.ofMillis(millis);
    }

    private static int statusOf(Throwable failure) {
        if (failure instanceof CommandOutcomeUnknownException) {
            return 504;
        }
        if (GyreTransientException.isCauseOf(failure)) {
            return 503;
        }
        if (failure instanceof InsufficientFundsException
                || (failure instanceof CommandRefusedException refused && refused.is(InsufficientFundsException.class))
                || failure instanceof AggregateAlreadyExistsException) {
            return 409;
        }
        if (failure instanceof AggregateNotFoundException) {
            return 404;
        }
        if (failure instanceof io.gyre.eventstore.CommandIdReusedException) {
            return 422; // the Idempotency-Key was used before for a different request: no retry can help
        }
        return failure instanceof GyreException ? 400 : 422;
    }

    private static String typeOf(Throwable failure) {
        return failure instanceof CommandRefusedException refused
                ? refused.exceptionType().substring(refused.exceptionType().lastIndexOf('.') + 1)
                : failure.getClass().getSimpleName();
    }

    private static Map<String, Object> error(String type, String message, boolean transientFailure) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", type);
        body.put("message", message);
        body.put("transient", transientFailure);
        return body;
    }

    private void respondAndClose(HttpExchange exchange, int status, Map<String, Object> body) throws IOException {
        try {
            respond(exchange, status, body);
        } finally {
            exchange.close();
        }
    }

    private void respond(HttpExchange exchange, int status, Map<String, Object> body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static InetSocketAddress hostAndPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("--initial-hosts takes host:port entries, but had '" + text + "'");
        }
        return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    private static String required(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("--" + key + "=... is required");
        }
        return value;
    }
}
