package io.gyre.examples.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.examples.bank.BalancesProjection;
import io.gyre.examples.bank.TempFolders;
import io.gyre.examples.bench.Databases;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's multi-process test of the read side: three bank node processes on one embedded PostgreSQL run the
 * {@code balances} tracking processor with 8 segments and its transactional JDBC projection, while clients move
 * money through every node over HTTP; one node is killed with SIGKILL mid-run and started again.
 *
 * <p>The database itself keeps the evidence: test-only triggers record every update of the processor's token rows
 * and every change of {@code bank_balances}, each with its transaction id, in the transaction that made it (so a
 * rolled-back batch leaves no record). At the end, after the read model has caught up, the test checks that
 * <ul>
 *   <li>the read model equals a replay of the event store, account by account (balance and last position), and
 *       its total equals the write side's;</li>
 *   <li>every stored event was applied to the read model exactly once (the projection's {@code balance + ?} would
 *       show a second application), with the event's own amount;</li>
 *   <li>each segment had one owner at any moment: per segment, in commit order, an epoch never went down, a new
 *       owner came only with a higher epoch, the token moved only forward and only under the owner and epoch the
 *       row held, and every read model change committed in a transaction that advanced such a token;</li>
 *   <li>the final owners are the live members and cover all 8 segments, as the nodes' own status says too.</li>
 * </ul>
 * Fencing refusals (a node told by the token store that a newer owner holds its segment) are expected around
 * view changes; they are counted from the nodes' logs and printed, as is how long the survivors took to run the
 * killed node's segments (issue 14's target: within 3 s of the view change).
 *
 * <p>Bigger runs: {@code -Dgyre.processorKill.accounts=200 -Dgyre.processorKill.clients=12
 * -Dgyre.processorKill.phaseSeconds=20 -Dgyre.processorKill.rounds=3} (each round kills the next node);
 * {@code -Dgyre.processorKill.keepLogs=true} keeps the nodes' logs of a run that passed (a failed run always does).
 */
class ProcessorKillTest {

    private static final int SEGMENTS = 8;
    private static final int NODES = 3;
    private static final String PROCESSOR = BalancesProjection.PROCESSOR;
    private static final long INITIAL_BALANCE = 1_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** slf4j-simple's time stamps, with the zone so that lines of different processes compare. */
    private static final String LOG_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ";
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    private static final Pattern RUNS_ON = Pattern.compile("^(\\S+) .*Processor '" + PROCESSOR
            + "' segment (\\d+) now runs on (\\S+) \\(epoch (\\d+)\\)");
    private static final Pattern MOVES = Pattern.compile("^(\\S+) .*Processor '" + PROCESSOR
            + "' segment (\\d+) moves from (\\S+) to (\\S+) \\(epoch (\\d+)");

    private final int accounts = Integer.getInteger("gyre.processorKill.accounts", 20);
    private final int clientThreads = Integer.getInteger("gyre.processorKill.clients", 4);
    private final Duration phase = Duration.ofSeconds(Integer.getInteger("gyre.processorKill.phaseSeconds", 4));
    private final int rounds = Integer.getInteger("gyre.processorKill.rounds", 1);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @Test
    void a_killed_node_s_segments_move_to_the_survivors_with_one_owner_at_a_time_and_the_read_model_equals_a_replay()
            throws Exception {
        long testStarted = System.nanoTime();
        Path workDir = Files.createTempDirectory("gyre-processor-kill");
        List<NodeProcess> nodes = new ArrayList<>();
        boolean passed = false;
        try {
            run(workDir, nodes, testStarted);
            passed = true;
        } finally {
            for (NodeProcess node : nodes) {
                if (node.isAlive()) {
                    node.kill();
                }
            }
            if (passed && !Boolean.getBoolean("gyre.processorKill.keepLogs")) {
                TempFolders.deleteRecursively(workDir);
            } else {
                System.err.println("ProcessorKillTest: node logs are kept in " + workDir);
            }
        }
    }

    /** Runs the scenario and checks it; the caller kills the node processes it leaves in {@code nodes}. */
    private void run(Path workDir, List<NodeProcess> nodes, long testStarted) throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().setServerConfig("max_connections", "200").start();
             Databases databases = new Databases()) {
            String jdbcUrl = postgres.getJdbcUrl("postgres", "postgres");
            DataSource db = databases.postgresAt(jdbcUrl);
            JdbcEventStore store = JdbcEventStore.postgres(db);
            prepareReadModelWithAudit(db);
            try {
                String cluster = "pkill-" + UUID.randomUUID().toString().substring(0, 8);
                int bindPort = freePorts(150);
                String initialHosts = IntStream.range(0, NODES).mapToObj(i -> "127.0.0.1:" + (bindPort + i))
                        .collect(Collectors.joining(","));
                List<String> jvm = List.of("-Dorg.slf4j.simpleLogger.showDateTime=true",
                        "-Dorg.slf4j.simpleLogger.dateTimeFormat=" + LOG_TIME_FORMAT,
                        // The segment moves (ClusterSegments logs under the bus's name) and claims, at INFO.
                        "-Dorg.slf4j.simpleLogger.log.io.gyre.routing.jgroups.JGroupsCommandBus=info",
                        "-Dorg.slf4j.simpleLogger.log.io.gyre.processing.internal.TrackingRuntime=info");
                for (int i = 0; i < NODES; i++) {
                    String name = "node-" + (i + 1);
                    int httpPort = bindPort + 50 + i;
                    nodes.add(new NodeProcess(name, httpPort, List.of("--node=" + name, "--cluster=" + cluster,
                            "--http-port=" + httpPort, "--bind-port=" + (bindPort + i), "--port-range=0",
                            "--initial-hosts=" + initialHosts, "--jdbc-url=" + jdbcUrl,
                            "--balances-segments=" + SEGMENTS), workDir.resolve(name + ".log"), jvm));
                }
                for (NodeProcess node : nodes) {
                    node.start();
                }
                for (NodeProcess node : nodes) {
                    node.awaitHealthy(http, NODES, Duration.ofSeconds(90));
                }
                Map<Integer, Token> placed = await("every segment claimed by one of " + NODES + " nodes",
                        Duration.ofSeconds(60), () -> {
                            Map<Integer, Token> tokens = tokens(db);
                            boolean spread = tokens.size() == SEGMENTS && tokens.values().stream()
                                    .allMatch(token -> token.owner() != null)
                                    && tokens.values().stream().map(Token::owner).distinct().count() == NODES;
                            return spread ? tokens : null;
                        });
                log(testStarted, "cluster up; segments " + owners(placed));

                ChaosRun.Settings settings = new ChaosRun.Settings(phase.multipliedBy(3L * rounds), NODES, accounts,
                        clientThreads, INITIAL_BALANCE, Duration.ZERO);
                Clients clients = new Clients(http, nodes, settings);
                clients.openAccounts();
                clients.start();
                log(testStarted, "accounts opened; " + clientThreads + " clients move money through every node");

                List<Takeover> takeovers = new ArrayList<>();
                try {
                    for (int round = 0; round < rounds; round++) {
                        Thread.sleep(phase.toMillis());
                        NodeProcess victim = nodes.get((1 + round) % NODES);
                        takeovers.add(killAndRestart(victim, nodes, clients, db, testStarted));
                        Thread.sleep(phase.toMillis());
                    }
                } finally {
                    clients.stopAndWait();
                }
                log(testStarted, "clients stopped: " + clients.acknowledged().size() + " acknowledged, "
                        + clients.refused().size() + " refused, " + clients.failures().size() + " failed");

                // The write side first: the chaos run's checker proves the store itself is right.
                ChaosReport written = Checker.check(store, clients, settings, List.of());
                assertThat(written.lost()).as("acknowledged commands lost: " + written.details()).isZero();
                assertThat(written.duplicated()).as("commands stored twice: " + written.details()).isZero();
                assertThat(written.unknown()).as("stored commands nobody sent: " + written.details()).isZero();
                assertThat(written.gaps()).as("streams with gaps: " + written.details()).isZero();
                assertThat(written.conserved()).as("money conserved: " + written.details()).isTrue();
                assertThat(clients.failures()).as("commands the clients gave up on").isEmpty();
                assertThat(written.acked()).as("commands acknowledged").isGreaterThan(50);

                Map<String, List<StoredEvent>> streams = readStreams(store);
                Map<String, Row> replay = replay(streams);
                long writeTotal = replay.values().stream().mapToLong(Row::balance).sum();

                long waitStarted = System.nanoTime();
                Map<String, Row> readModel = awaitOrLast(Duration.ofSeconds(60), () -> readModel(db),
                        replay::equals);
                long caughtUpMillis = (System.nanoTime() - waitStarted) / 1_000_000;
                log(testStarted, "read model " + (readModel.equals(replay) ? "caught up" : "NOT caught up") + " "
                        + caughtUpMillis + " ms after the clients stopped");
                // The audit first: where the read model is off, it names the event and the transaction.
                AuditFindings audit = checkAudit(db, streams);
                assertThat(readModel).as("the read model equals a replay of the event store").isEqualTo(replay);
                assertThat(readModel.values().stream().mapToLong(Row::balance).sum())
                        .as("the read model's total equals the write side's").isEqualTo(writeTotal)
                        .isEqualTo(accounts * INITIAL_BALANCE);

                Map<String, Boolean> caughtUp = new TreeMap<>();
                Map<String, Integer> here = awaitOrLast(Duration.ofSeconds(30), () -> segmentsHere(nodes, caughtUp),
                        counts -> counts.equals(ownerCounts(tokens(db))) && !caughtUp.containsValue(false));
                Map<Integer, Token> finalTokens = tokens(db);
                Set<String> live = nodes.stream().filter(NodeProcess::isAlive).map(NodeProcess::name)
                        .collect(Collectors.toSet());
                assertThat(finalTokens).as("a token per segment").hasSize(SEGMENTS);
                assertThat(finalTokens.values()).as("the final owners are live members")
                        .allSatisfy(token -> assertThat(live).contains(token.owner()));
                assertThat(here).as("each node's own status runs the segments the token table gives it")
                        .isEqualTo(ownerCounts(finalTokens));
                assertThat(here.values().stream().mapToInt(Integer::intValue).sum()).as("segments run, over all nodes")
                        .isEqualTo(SEGMENTS);
                assertThat(caughtUp).as("each node's status says its segments have caught up")
                        .doesNotContainValue(false).containsOnlyKeys(here.keySet());

                Map<String, Integer> refusals = new TreeMap<>();
                for (NodeProcess node : nodes) {
                    refusals.put(node.name(), count(node.log(), "Processor '" + PROCESSOR + "' segment ",
                            " is fenced on "));
                }
                System.out.printf("ProcessorKillTest: %d accounts, %d clients, %d round(s) of %d s phases; "
                                + "%,d commands acknowledged, %,d events, %,d token updates and %,d read model "
                                + "changes audited%n",
                        accounts, clientThreads, rounds, phase.toSeconds(), written.acked(), written.events(),
                        audit.tokenUpdates(), audit.balanceChanges());
                System.out.println("ProcessorKillTest: fencing refusals (allowed around view changes) " + refusals
                        + ", total " + refusals.values().stream().mapToInt(Integer::intValue).sum());
                for (Takeover takeover : takeovers) {
                    System.out.println("ProcessorKillTest: " + takeover.summary());
                }
                // Issue 14's target is 3 s after the view change; this bound only catches a takeover that waits for
                // something (a lease, a claim poll), with room for a machine on one slow CPU.
                assertThat(takeovers).as("survivors ran the killed node's segments within 15 s of the view change")
                        .allSatisfy(takeover -> assertThat(takeover.viewMillis()).isNotNegative()
                                .isLessThanOrEqualTo(takeover.claimMillis())
                                .isGreaterThan(takeover.claimMillis() - 15_000));
                System.out.println("ProcessorKillTest: final owners " + owners(finalTokens) + "; read model caught up "
                        + caughtUpMillis + " ms after the clients stopped; whole test "
                        + (System.nanoTime() - testStarted) / 1_000_000_000 + " s");
                store.close();
            } finally {
                // The nodes go before the database does, so that they do not log its disappearance.
                for (NodeProcess node : nodes) {
                    if (node.isAlive()) {
                        node.kill();
                    }
                }
            }
        }
    }

    // ---- the kill ----

    /**
     * How long the survivors took to run the segments of a killed node.
     *
     * @param victim      the killed node
     * @param segments    the segments it held
     * @param viewMillis  from the kill to the first survivor placing one of them (the view change), -1 if unseen
     * @param claimMillis from the kill to the last of them running on a survivor, by the survivors' logs
     * @param tableMillis from the kill to the token table showing every one of them held by a survivor (polled)
     */
    record Takeover(String victim, Set<Integer> segments, long viewMillis, long claimMillis, long tableMillis) {

        String summary() {
            String afterView = viewMillis < 0 || claimMillis < 0 ? "unknown" : (claimMillis - viewMillis) + " ms";
            return String.format("SIGKILL %s (segments %s): view change after %d ms, survivors ran its segments "
                            + "%d ms after the kill = %s after the view change (target 3,000 ms); token table showed "
                            + "them taken %d ms after the kill", victim, segments, viewMillis, claimMillis, afterView,
                    tableMillis);
        }
    }

    private Takeover killAndRestart(NodeProcess victim, List<NodeProcess> nodes, Clients clients, DataSource db,
                                    long testStarted) throws Exception {
        // A node started again in an earlier round may still be taking its share: kill once every node holds some.
        Map<Integer, Token> before = await("every node holding segments before " + victim.name() + " is killed",
                Duration.ofSeconds(60), () -> {
                    Map<Integer, Token> tokens = tokens(db);
                    return tokens.values().stream().map(Token::owner).filter(Objects::nonNull).distinct().count()
                            == NODES ? tokens : null;
                });
        Set<Integer> held = new java.util.TreeSet<>();
        before.forEach((segment, token) -> {
            if (victim.name().equals(token.owner())) {
                held.add(segment);
            }
        });
        clients.markDown(victim);
        Instant killedAt = Instant.now();
        long killed = System.nanoTime();
        victim.kill();
        log(testStarted, "kill -9 " + victim.name() + ", which held segments " + held);
        Set<String> survivors = nodes.stream().filter(node -> node != victim).map(NodeProcess::name)
                .collect(Collectors.toSet());
        await("the survivors hold " + victim.name() + "'s segments " + held, Duration.ofSeconds(60), () -> {
            Map<Integer, Token> now = tokens(db);
            return held.stream().allMatch(segment -> survivors.contains(now.get(segment).owner())
                    && now.get(segment).epoch() > before.get(segment).epoch()) ? now : null;
        });
        long tableMillis = (System.nanoTime() - killed) / 1_000_000;
        for (NodeProcess survivor : nodes) {
            if (survivor != victim) {
                survivor.awaitHealthy(http, NODES - 1, Duration.ofSeconds(30));
            }
        }
        // The survivors log the placement ("moves from") and the claim ("now runs on") with a time stamp.
        long viewMillis = -1;
        Map<Integer, Long> claimed = new HashMap<>();
        for (NodeProcess survivor : nodes) {
            if (survivor == victim) {
                continue;
            }
            for (String line : Files.readAllLines(survivor.log())) {
                Matcher moves = MOVES.matcher(line);
                if (moves.find() && moves.group(3).equals(victim.name())
                        && held.contains(Integer.parseInt(moves.group(2)))) {
                    long at = millisAfter(killedAt, moves.group(1));
                    if (at >= 0 && (viewMillis < 0 || at < viewMillis)) {
                        viewMillis = at;
                    }
                }
                Matcher runs = RUNS_ON.matcher(line);
                if (runs.find() && held.contains(Integer.parseInt(runs.group(2)))
                        && Long.parseLong(runs.group(4)) > before.get(Integer.parseInt(runs.group(2))).epoch()) {
                    long at = millisAfter(killedAt, runs.group(1));
                    if (at >= 0) {
                        claimed.merge(Integer.parseInt(runs.group(2)), at, Math::min);
                    }
                }
            }
        }
        long claimMillis = claimed.keySet().containsAll(held)
                ? claimed.values().stream().mapToLong(Long::longValue).max().orElse(-1) : -1;
        Takeover takeover = new Takeover(victim.name(), held, viewMillis, claimMillis, tableMillis);
        log(testStarted, takeover.summary());

        Thread.sleep(phase.toMillis());
        victim.start();
        victim.awaitHealthy(http, NODES, Duration.ofSeconds(90));
        clients.markUp(victim);
        log(testStarted, victim.name() + " restarted and back in the cluster");
        return takeover;
    }

    private static long millisAfter(Instant origin, String stamp) {
        try {
            return Duration.between(origin, LOG_TIME.parse(stamp, Instant::from)).toMillis();
        } catch (java.time.format.DateTimeParseException e) {
            return -1;
        }
    }

    // ---- the database's evidence ----

    /**
     * Creates the event store's and the processor's tables and the read model's, as the nodes would, and adds
     * test-only triggers that record, in the writing transaction, every update of the processor's token rows and
     * every row change of the read model.
     */
    private static void prepareReadModelWithAudit(DataSource db) throws SQLException {
        JdbcProcessingStore.create(db);
        BalancesProjection.createTable(db);
        try (Connection connection = db.getConnection(); Statement sql = connection.createStatement()) {
            sql.execute("CREATE TABLE token_audit (id BIGSERIAL PRIMARY KEY, txid BIGINT NOT NULL,"
                    + " segment INT NOT NULL, old_owner TEXT, old_epoch BIGINT, old_commit_order BIGINT,"
                    + " old_position BIGINT,"
                    + " new_owner TEXT, new_epoch BIGINT, new_commit_order BIGINT, new_position BIGINT,"
                    + " at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
            sql.execute("CREATE FUNCTION audit_token() RETURNS trigger AS $$ BEGIN "
                    + "INSERT INTO token_audit (txid, segment, old_owner, old_epoch, old_commit_order, old_position,"
                    + " new_owner, new_epoch, new_commit_order, new_position) VALUES (txid_current(), NEW.segment,"
                    + " OLD.owner, OLD.epoch, OLD.commit_order, OLD.position,"
                    + " NEW.owner, NEW.epoch, NEW.commit_order, NEW.position); RETURN NEW; END $$ LANGUAGE plpgsql");
            sql.execute("CREATE TRIGGER gyre_tokens_audit AFTER UPDATE ON gyre_tokens FOR EACH ROW"
                    + " WHEN (NEW.processor_name = '" + PROCESSOR + "') EXECUTE FUNCTION audit_token()");
            sql.execute("CREATE TABLE balance_audit (id BIGSERIAL PRIMARY KEY, txid BIGINT NOT NULL,"
                    + " account_id TEXT NOT NULL, delta BIGINT NOT NULL, position BIGINT NOT NULL)");
            sql.execute("CREATE FUNCTION audit_balance() RETURNS trigger AS $$ BEGIN "
                    + "INSERT INTO balance_audit (txid, account_id, delta, position) VALUES (txid_current(),"
                    + " NEW.account_id, NEW.balance - (CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.balance END),"
                    + " NEW.last_event_position); RETURN NEW; END $$ LANGUAGE plpgsql");
            sql.execute("CREATE TRIGGER bank_balances_audit AFTER INSERT OR UPDATE ON " + BalancesProjection.TABLE
                    + " FOR EACH ROW EXECUTE FUNCTION audit_balance()");
        }
    }

    /** A token row: its owner (null when released) and fencing epoch, and its place in the log. */
    record Token(String owner, long epoch, long commitOrder, long position) {

        boolean sameHolder(Token other) {
            return Objects.equals(owner, other.owner) && epoch == other.epoch;
        }

        int compareProgress(Token other) {
            return commitOrder != other.commitOrder ? Long.compare(commitOrder, other.commitOrder)
                    : Long.compare(position, other.position);
        }
    }

    private static Map<Integer, Token> tokens(DataSource db) {
        Map<Integer, Token> tokens = new TreeMap<>();
        try (Connection connection = db.getConnection(); Statement sql = connection.createStatement();
             ResultSet rows = sql.executeQuery("SELECT segment, owner, epoch, commit_order, position FROM gyre_tokens"
                     + " WHERE processor_name = '" + PROCESSOR + "'")) {
            while (rows.next()) {
                tokens.put(rows.getInt(1), new Token(rows.getString(2), rows.getLong(3), rows.getLong(4),
                        rows.getLong(5)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading gyre_tokens failed", e);
        }
        return tokens;
    }

    /** What the audit triggers recorded, checked. */
    record AuditFindings(int tokenUpdates, int balanceChanges) {
    }

    /**
     * Checks the audit: per segment, in the order the row's updates committed (the row lock orders them, and each
     * audit id is drawn under it), every update starts from the previous one's result, the epoch never goes down, a
     * new owner comes with a higher epoch, and the token moves only forward and only under the holder the row had.
     * Every read model change committed in a transaction that advanced one segment's token so, one segment per
     * account, and the changes are exactly the stored events, each once, with its amount.
     */
    private static AuditFindings checkAudit(DataSource db, Map<String, List<StoredEvent>> streams) throws SQLException {
        Map<Integer, Token> last = new HashMap<>();
        Map<Long, Integer> advancedSegment = new HashMap<>();
        int tokenUpdates = 0;
        List<String> problems = new ArrayList<>();
        try (Connection connection = db.getConnection(); Statement sql = connection.createStatement();
             ResultSet rows = sql.executeQuery("SELECT id, txid, segment, old_owner, old_epoch, old_commit_order,"
                     + " old_position, new_owner, new_epoch, new_commit_order, new_position FROM token_audit"
                     + " ORDER BY id")) {
            while (rows.next()) {
                tokenUpdates++;
                long id = rows.getLong(1);
                long txid = rows.getLong(2);
                int segment = rows.getInt(3);
                Token old = new Token(rows.getString(4), rows.getLong(5), rows.getLong(6), rows.getLong(7));
                Token now = new Token(rows.getString(8), rows.getLong(9), rows.getLong(10), rows.getLong(11));
                String where = "token update #" + id + " of segment " + segment + " (" + old + " -> " + now + ")";
                Token previous = last.put(segment, now);
                if (previous != null && !previous.equals(old)) {
                    problems.add(where + " does not start where the previous one left the row: " + previous);
                }
                if (now.epoch() < old.epoch()) {
                    problems.add(where + ": the epoch went down");
                }
                if (now.owner() != null && !now.sameHolder(old) && now.epoch() <= old.epoch()) {
                    problems.add(where + ": a new owner without a higher epoch");
                }
                int progress = now.compareProgress(old);
                if (progress < 0) {
                    problems.add(where + ": the token went back");
                }
                if (progress > 0) {
                    if (!now.sameHolder(old) || now.owner() == null) {
                        problems.add(where + ": the token moved under another holder than the row had");
                    }
                    if (advancedSegment.put(txid, segment) != null) {
                        problems.add(where + ": a second token advanced in transaction " + txid);
                    }
                }
            }
        }
        Map<String, Integer> segmentOfAccount = new HashMap<>();
        Map<String, Map<Long, Long>> applied = new HashMap<>();
        int balanceChanges = 0;
        try (Connection connection = db.getConnection(); Statement sql = connection.createStatement();
             ResultSet rows = sql.executeQuery("SELECT id, txid, account_id, delta, position FROM balance_audit"
                     + " ORDER BY id")) {
            while (rows.next()) {
                balanceChanges++;
                long txid = rows.getLong(2);
                String account = rows.getString(3);
                long position = rows.getLong(5);
                Integer segment = advancedSegment.get(txid);
                if (segment == null) {
                    problems.add("read model change #" + rows.getLong(1) + " of " + account + " at position "
                            + position + " committed without advancing a token of its holder");
                } else {
                    Integer earlier = segmentOfAccount.putIfAbsent(account, segment);
                    if (earlier != null && !earlier.equals(segment)) {
                        problems.add(account + " was changed through segments " + earlier + " and " + segment);
                    }
                }
                if (applied.computeIfAbsent(account, key -> new HashMap<>()).put(position, rows.getLong(4)) != null) {
                    problems.add("the event at position " + position + " was applied to " + account + " twice");
                }
            }
        }
        for (Map.Entry<String, List<StoredEvent>> stream : streams.entrySet()) {
            Map<Long, Long> expected = new HashMap<>();
            for (StoredEvent event : stream.getValue()) {
                expected.put(event.position(), signedAmount(event));
            }
            Map<Long, Long> actual = applied.getOrDefault(stream.getKey(), Map.of());
            if (!actual.equals(expected)) {
                Set<Long> missing = new HashSet<>(expected.keySet());
                missing.removeAll(actual.keySet());
                Set<Long> extra = new HashSet<>(actual.keySet());
                extra.removeAll(expected.keySet());
                problems.add(stream.getKey() + ": events applied differ from the store's (missing positions "
                        + missing + ", extra " + extra + ", or a different amount)");
            }
        }
        assertThat(problems).as("what the audit of the token rows and the read model shows").isEmpty();
        assertThat(tokenUpdates).as("token updates audited").isPositive();
        return new AuditFindings(tokenUpdates, balanceChanges);
    }

    // ---- the read model, the store and the nodes' status ----

    /** An account as the read model has it, or as a replay of its events makes it. */
    record Row(long balance, long lastEventPosition) {
    }

    private static Map<String, Row> readModel(DataSource db) {
        Map<String, Row> rows = new TreeMap<>();
        try (Connection connection = db.getConnection(); Statement sql = connection.createStatement();
             ResultSet result = sql.executeQuery("SELECT account_id, balance, last_event_position FROM "
                     + BalancesProjection.TABLE)) {
            while (result.next()) {
                rows.put(result.getString(1), new Row(result.getLong(2), result.getLong(3)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading " + BalancesProjection.TABLE + " failed", e);
        }
        return rows;
    }

    private Map<String, List<StoredEvent>> readStreams(JdbcEventStore store) {
        Map<String, List<StoredEvent>> streams = new TreeMap<>();
        for (int i = 0; i < accounts; i++) {
            String account = Clients.account(i);
            try (Stream<StoredEvent> read = store.readStream(StreamId.of("Account", account))) {
                streams.put(account, read.toList());
            }
        }
        return streams;
    }

    private static Map<String, Row> replay(Map<String, List<StoredEvent>> streams) {
        Map<String, Row> rows = new TreeMap<>();
        streams.forEach((account, events) -> {
            long balance = 0;
            for (StoredEvent event : events) {
                balance += signedAmount(event);
            }
            rows.put(account, new Row(balance, events.get(events.size() - 1).position()));
        });
        return rows;
    }

    private static long signedAmount(StoredEvent event) {
        try {
            JsonNode amount = JSON.readTree(event.payload()).get("amount");
            long value = amount == null ? 0 : amount.asLong();
            return event.type().endsWith("Withdrawn") ? -value : value;
        } catch (IOException e) {
            throw new IllegalStateException("unreadable payload of event " + event.eventId(), e);
        }
    }

    /**
     * @param caughtUp filled with whether each node that runs segments says they have caught up
     * @return per live node that runs segments, how many its own status says run there ({@code GET /accounts/{id}})
     */
    private Map<String, Integer> segmentsHere(List<NodeProcess> nodes, Map<String, Boolean> caughtUp) {
        caughtUp.clear();
        Map<String, Integer> counts = new TreeMap<>();
        for (NodeProcess node : nodes) {
            if (!node.isAlive()) {
                continue;
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(node.uri("/accounts/"
                        + Clients.account(0))).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode readModel = JSON.readTree(response.body()).path("readModel");
                String here = readModel.path("segmentsHere").asText("");
                if (readModel.path("caughtUp").isBoolean()) {
                    caughtUp.put(node.name(), readModel.path("caughtUp").asBoolean());
                }
                Matcher matcher = Pattern.compile("(\\d+) of (\\d+)").matcher(here);
                counts.put(node.name(), matcher.matches() && Integer.parseInt(matcher.group(2)) == SEGMENTS
                        ? Integer.parseInt(matcher.group(1)) : -1);
            } catch (IOException e) {
                counts.put(node.name(), -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        counts.values().removeIf(count -> count == 0);
        return counts;
    }

    private static Map<String, Integer> ownerCounts(Map<Integer, Token> tokens) {
        Map<String, Integer> counts = new TreeMap<>();
        tokens.values().forEach(token -> counts.merge(String.valueOf(token.owner()), 1, Integer::sum));
        return counts;
    }

    private static Map<String, List<Integer>> owners(Map<Integer, Token> tokens) {
        Map<String, List<Integer>> owners = new TreeMap<>();
        tokens.forEach((segment, token) -> owners.computeIfAbsent(String.valueOf(token.owner()),
                key -> new ArrayList<>()).add(segment));
        return owners;
    }

    private static int count(Path log, String... parts) throws IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        try (Stream<String> lines = Files.lines(log)) {
            return (int) lines.filter(line -> Stream.of(parts).allMatch(line::contains)).count();
        }
    }

    // ---- waiting ----

    private static <T> T await(String what, Duration timeout, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Probes until the condition holds or the time is up, and returns the last value either way. */
    private static <T> T awaitOrLast(Duration timeout, Supplier<T> probe, java.util.function.Predicate<T> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (done.test(value) || System.nanoTime() > deadline) {
                return value;
            }
            Thread.sleep(250);
        }
    }

    private static void log(long started, String event) {
        System.out.printf("%7.1f s  %s%n", (System.nanoTime() - started) / 1e9, event);
    }

    private static int freePorts(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            // Below the kernel's ephemeral range (32768 and up by default), where outgoing connections would take
            // ports of the block between this check and the nodes' binds.
            int base = 10_000 + ThreadLocalRandom.current().nextInt(20_000);
            boolean free = true;
            for (int port = base; port <= base + count && free; port++) {
                try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
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
