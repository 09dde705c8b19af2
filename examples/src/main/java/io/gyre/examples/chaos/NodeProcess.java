package io.gyre.examples.chaos;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A bank node running in a JVM process of its own, which the chaos run kills, stops and restarts. */
final class NodeProcess {

    private final String name;
    private final int httpPort;
    private final List<String> arguments;
    private final Path log;
    private final List<String> jvmOptions;
    private Process process;

    NodeProcess(String name, int httpPort, List<String> arguments, Path log) {
        this(name, httpPort, arguments, log, List.of());
    }

    /**
     * @param jvmOptions options for the node's JVM after the defaults, e.g. {@code -Dorg.slf4j.simpleLogger...} to
     *                   log more than warnings
     */
    NodeProcess(String name, int httpPort, List<String> arguments, Path log, List<String> jvmOptions) {
        this.name = name;
        this.httpPort = httpPort;
        this.arguments = List.copyOf(arguments);
        this.log = log;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    Path log() {
        return log;
    }

    String name() {
        return name;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    void start() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.net.preferIPv4Stack=true");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.add("-Dorg.slf4j.simpleLogger.log.org.jgroups=error");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath());
        command.add("io.gyre.examples.bank.BankNode");
        command.addAll(arguments);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits until the node answers and sees the given number of members. */
    void awaitHealthy(HttpClient http, int members, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("node " + name + " exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                last = response.body();
                if (response.statusCode() == 200 && countMembers(last) == members) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("node " + name + " not healthy with " + members + " members: " + last
                + "; see " + log);
    }

    private static int countMembers(String health) {
        int start = health.indexOf("\"members\":[");
        if (start < 0) {
            return -1;
        }
        int end = health.indexOf(']', start);
        String list = health.substring(start + 11, end).trim();
        return list.isEmpty() ? 0 : list.split(",").length;
    }

    /** Sends SIGKILL: no shutdown hook runs, connections drop mid-flight. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Sends SIGTERM: the node finishes its requests, leaves the cluster, then exits. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("node " + name + " did not stop within 60 s; see " + log);
        }
    }

    /** Sends SIGSTOP: the process freezes mid-flight, as a long GC pause or a stalled VM would. */
    void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** Sends SIGCONT to a paused process. */
    void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The class path of this program, whether it runs from Maven's exec plugin, surefire or a plain JVM. */
    private static String classpath() {
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader loader = Thread.currentThread().getContextClassLoader(); loader != null;
             loader = loader.getParent()) {
            if (loader instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    try {
                        entries.add(new File(url.toURI()).getPath());
                    } catch (java.net.URISyntaxException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        entries.add(System.getProperty("java.class.path"));
        return String.join(File.pathSeparator, entries);
    }
}
