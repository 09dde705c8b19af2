package io.gyre.routing.jgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Key and trust stores for TLS tests, made with the JDK's keytool: a key pair of its own per name, self-signed, in
 * a PKCS#12 key store, and trust stores that hold the certificates of the names given.
 */
final class TestCertificates {

    static final char[] PASSWORD = "test-password".toCharArray();

    private final Path folder;

    TestCertificates(Path folder) {
        this.folder = folder;
    }

    /** @return the key store of {@code name}, made on first use */
    Path keyStore(String name) {
        Path store = folder.resolve(name + "-key.p12");
        if (!store.toFile().exists()) {
            keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                    "CN=" + name, "-validity", "3", "-storetype", "PKCS12", "-keystore", store.toString(),
                    "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD));
        }
        return store;
    }

    /** @return a trust store holding the certificates of the given names */
    Path trustStore(String... names) {
        Path store = folder.resolve("trust-" + String.join("-", names) + ".p12");
        if (store.toFile().exists()) {
            return store;
        }
        for (String name : names) {
            Path certificate = folder.resolve(name + ".cer");
            keytool("-exportcert", "-alias", name, "-keystore", keyStore(name).toString(), "-storepass",
                    new String(PASSWORD), "-file", certificate.toString());
            keytool("-importcert", "-noprompt", "-alias", name, "-file", certificate.toString(), "-storetype",
                    "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD));
        }
        return store;
    }

    /** @return TLS settings with the name's own key and trust in the given names */
    ClusterTls tls(String name, String... trusted) {
        return ClusterTls.of(keyStore(name), PASSWORD, trustStore(trusted), PASSWORD);
    }

    private static void keytool(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + String.join(" ", arguments) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
