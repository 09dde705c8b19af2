package io.gyre.examples.chaos;

import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.examples.bank.CommandLine;
import io.gyre.examples.bank.TempFolders;
import io.gyre.examples.bench.Databases;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The chaos run: bank nodes in their own JVMs share one PostgreSQL; clients move money between accounts through
 * random nodes (no affinity) while one node is killed with SIGKILL and restarted, another is stopped gracefully
 * and restarted, and the database is unreachable for a while. At the end a checker reads the store and proves
 * that every acknowledged command is stored exactly once, that no command is stored twice, that every stream is
 * contiguous, that no balance ever went below zero, and that transfers conserved the total.
 *
 * <p>Run a soak: {@code mvn -q -DskipTests install && mvn -q -pl examples exec:java
 * -Dexec.mainClass=io.gyre.examples.chaos.ChaosRun -Dexec.args="--duration=600 --accounts=500 --clients=16"}.
 * Options ({@code --key=value}): {@code duration} seconds (default 60), {@code nodes} (3), {@code accounts}
 * (50), {@code clients} (8), {@code initial} balance per account (1000), {@code db-outage} seconds (10, 0 for
 * none). Exits with status 1 when an invariant is broken.
 *
 * <p>The nodes' logs and PostgreSQL's data go to a {@code gyre-chaos} folder in the temporary directory. It is
 * deleted after a clean run and kept, with its path printed, after a run that breaks an invariant or fails.
 */
public final class ChaosRun {

    /**
     * What to run.
     *
     * @param duration       how long clients send commands
     * @param nodes          how many node processes
     * @param accounts       how many accounts
     * @param clients        how many client threads
     * @param initialBalance each account's opening deposit
     * @param dbOutage       how long the database is down mid-run, zero for no outage
     */
    public record Settings(Duration duration, int nodes, int accounts, int clients, long initialBalance,
                           Duration dbOutage) {

        /** Checks the settings. */
        public Settings {
            if (nodes < 3 || nodes > 20) {
                throw new IllegalArgumentException("nodes must be between 3 (one is killed, one stopped) and 20 (the "
                        + "nodes' port range), but was " + nodes);
            }
            if (accounts < 2 || clients < 1 || initialBalance < 1) {
                throw new IllegalArgumentException("need at least 2 accounts, 1 client and a positive balance");
            }
        }
    }

    private ChaosRun() {
    }

    /**
     * @param args {@code --key=value} options
     * @throws Exception when the run cannot be set up
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = CommandLine.options(args);
        Settings settings = new Settings(Duration.ofSeconds(Long.parseLong(options.getOrDefault("duration", "60"))),
                Integer.parseInt(options.getOrDefault("nodes", "3")),
                Integer.parseInt(options.getOrDefault("accounts", "50")),
                Integer.parseInt(options.getOrDefault("clients", "8")),
                Long.parseLong(options.getOrDefault("initial", "1000")),
                Duration.ofSeconds(Long.parseLong(options.getOrDefault("db-outage", "10"))));
        ChaosReport report = run(settings);
        System.out.println(report.summary());
        report.details().forEach(System.out::println);
        System.exit(report.clean() ? 0 : 1);
    }

    /**
     * Runs in a new temporary folder, deleted when the report is clean. Otherwise the folder stays for the node
     * logs and the database to be inspected, and the report's last detail (or, when the run throws, a line on
     * standard error) says where it is.
     *
     * @param settings what to run
     * @return what the checker found
     * @throws Exception when the run cannot be set up
     */
    public static ChaosReport run(Settings settings) throws Exception {
        Path workDir = Files.createTempDirectory("gyre-chaos");
        ChaosReport report;
        try {
            report = runIn(workDir, settings);
        } catch (Exception | Error e) {
            System.err.println("The chaos run failed; node logs and PostgreSQL data are kept in " + workDir);
            throw e;
        }
        if (report.clean()) {
            // Every node process has exited and PostgreSQL has stopped by now, so nothing writes there any more.
            TempFolders.deleteRecursively(workDir);
            return report;
        }
        List<String> details = new ArrayList<>(report.details());
        details.add("node logs and PostgreSQL data kept in " + workDir);
        return new ChaosReport(report.acked(), report.refused(), report.failed(), report.retried(),
                report.maxStallMillis(), report.killStallMillis(), report.stopStallMillis(), report.dbStallMillis(),
                report.lost(), report.duplicated(), report.unknown(), report.gaps(), report.negative(),
                report.conserved(), report.events(), details);
    }

    /** Runs with the node logs and PostgreSQL data in the given folder; stops all processes before returning. */
    private static ChaosReport runIn(Path workDir, Settings settings) throws Exception {
        Path pgData = workDir.resolve("pg");
        Files.createDirectories(pgData);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false)
                .setServerConfig("max_connections", "200").start();
        int pgPort = postgres.getPort();
        String jdbcUrl = postgres.getJdbcUrl("postgres", "postgres");
        List<String> timeline = new CopyOnWriteArrayList<>();
        long started = System.nanoTime();
        List<NodeProcess> nodes = new ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try (Databases databases = new Databases()) {
            String cluster = "chaos-" + UUID.randomUUID().toString().substring(0, 8);
            // One block of free ports for everything: JGroups takes base..base+20 and, for failure detection,
            // 100 above those; the HTTP ports sit in between, so no node can take another's port.
            int bindPort = freePorts(150);
            // Each node gets a JGroups port of its own and probes exactly the others' (port range 0): nodes starting
            // together never race for the first free port of a shared range, and a port that is taken fails the
            // start with a message naming it.
            String initialHosts = java.util.stream.IntStream.range(0, settings.nodes())
                    .mapToObj(i -> "127.0.0.1:" + (bindPort + i)).collect(java.util.stream.Collectors.joining(","));
            for (int i = 0; i < settings.nodes(); i++) {
                String name = "node-" + (i + 1);
                int httpPort = bindPort + 50 + i;
                nodes.add(new NodeProcess(name, httpPort, List.of("--node=" + name, "--cluster=" + cluster,
                        "--http-port=" + httpPort, "--bind-port=" + (bindPort + i), "--port-range=0",
                        "--initial-hosts=" + initialHosts, "--jdbc-url=" + jdbcUrl,
                        "--clock-offset-seconds=" + (i == 0 ? 86_400 * 30 : 0)), workDir.resolve(name + ".log")));
            }
            for (NodeProcess node : nodes) {
                node.start();
            }
            for (NodeProcess node : nodes) {
                node.awaitHealthy(http, settings.nodes(), Duration.ofSeconds(90));
            }
            Clients clients = new Clients(http, nodes, settings);
            clients.openAccounts();
            log(timeline, started, "accounts opened; clients start");
            long clientsStarted = System.nanoTime();
            clients.start();

            long step = settings.duration().toMillis() / 5;
            Thread.sleep(step);
            NodeProcess killed = nodes.get(1);
            clients.markDown(killed);
            log(timeline, started, "kill -9 " + killed.name());
            clients.markEvent("kill", System.nanoTime());
            killed.kill();
            Thread.sleep(3_000);
            killed.start();
            killed.awaitHealthy(http, settings.nodes(), Duration.ofSeconds(90));
            clients.markUp(killed);
            log(timeline, started, killed.name() + " restarted");

            Thread.sleep(step);
            NodeProcess stopped = nodes.get(2);
            clients.markDown(stopped);
            log(timeline, started, "graceful stop " + stopped.name());
            clients.markEvent("stop", System.nanoTime());
            stopped.stop();
            Thread.sleep(3_000);
            stopped.start();
            stopped.awaitHealthy(http, settings.nodes(), Duration.ofSeconds(90));
            clients.markUp(stopped);
            log(timeline, started, stopped.name() + " restarted");

            if (!settings.dbOutage().isZero()) {
                Thread.sleep(step);
                log(timeline, started, "database down for " + settings.dbOutage().toSeconds() + " s");
                clients.markEvent("db", System.nanoTime());
                postgres.close();
                Thread.sleep(settings.dbOutage().toMillis());
                postgres = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false)
                        .setPort(pgPort).setServerConfig("max_connections", "200").start();
                log(timeline, started, "database back");
            }
            long remaining = settings.duration().toNanos() - (System.nanoTime() - clientsStarted);
            if (remaining > 0) {
                Thread.sleep(remaining / 1_000_000);
            }
            log(timeline, started, "clients stop");
            clients.stopAndWait();

            for (NodeProcess node : nodes) {
                node.stop();
            }
            log(timeline, started, "nodes stopped; checking the store");
            JdbcEventStore store = JdbcEventStore.builder(databases.postgresAt(jdbcUrl)).build();
            ChaosReport report = Checker.check(store, clients, settings, timeline);
            store.close();
            return report;
        } finally {
            for (NodeProcess node : nodes) {
                if (node.isAlive()) {
                    node.kill();
                }
            }
            postgres.close();
        }
    }

    private static void log(List<String> timeline, long started, String event) {
        String line = String.format("%7.1f s  %s", (System.nanoTime() - started) / 1e9, event);
        timeline.add(line);
        System.out.println(line);
    }

    /** @return a free port whose following {@code following} ports are free too */
    private static int freePorts(int following) throws IOException {
        for (int attempt = 0; attempt < 500; attempt++) {
            // Below the kernel's ephemeral range (32768 and up by default), where outgoing connections would take
            // ports of the block between this check and the nodes' binds.
            int base = 10_000 + ThreadLocalRandom.current().nextInt(20_000);
            if (free(base, following)) {
                return base;
            }
        }
        throw new IOException("no free ports");
    }

    private static boolean free(int from, int count) {
        for (int port = from; port <= from + count; port++) {
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
