package io.gyre.examples.bench;

import io.gyre.routing.jgroups.ClusterTls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A key pair for benchmarks with TLS, made with the JDK's keytool, trusted by the trust store next to it. */
final class BenchCertificates {

    private static final char[] PASSWORD = "bench-password".toCharArray();

    private BenchCertificates() {
    }

    /**
     * @param folder where to put the stores
     * @return TLS settings every node of a benchmark cluster can share
     * @throws IOException          when keytool cannot run
     * @throws InterruptedException when interrupted while it runs
     */
    static ClusterTls tls(Path folder) throws IOException, InterruptedException {
        Path keys = folder.resolve("bench.p12");
        Path certificate = folder.resolve("bench.cer");
        Path trust = folder.resolve("trust.p12");
        keytool("-genkeypair", "-alias", "bench", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=bench",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keys.toString(), "-storepass",
                new String(PASSWORD), "-keypass", new String(PASSWORD));
        keytool("-exportcert", "-alias", "bench", "-keystore", keys.toString(), "-storepass", new String(PASSWORD),
                "-file", certificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "bench", "-file", certificate.toString(), "-storetype",
                "PKCS12", "-keystore", trust.toString(), "-storepass", new String(PASSWORD));
        return ClusterTls.of(keys, PASSWORD, trust, PASSWORD);
    }

    private static void keytool(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", arguments) + " failed: " + output);
        }
    }
}
