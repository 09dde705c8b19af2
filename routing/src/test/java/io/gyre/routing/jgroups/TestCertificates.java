package io.gyre.routing.jgroups;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Key and trust stores for TLS tests: a key pair of its own per name, self-signed, in a PKCS#12 key store made with
 * the JDK's keytool, and trust stores that hold the certificates of the names given.
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

    /**
     * @return a trust store holding the certificates of the given names: a PKCS#12 store of trusted certificate
     *         entries, as {@code keytool -exportcert} and {@code -importcert} make it, but made in this JVM through
     *         {@link KeyStore} (which keytool calls itself) instead of a keytool process of about a second per
     *         certificate and step
     */
    Path trustStore(String... names) {
        Path store = folder.resolve("trust-" + String.join("-", names) + ".p12");
        if (store.toFile().exists()) {
            return store;
        }
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, PASSWORD);
            for (String name : names) {
                KeyStore own = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(keyStore(name))) {
                    own.load(in, PASSWORD);
                }
                Certificate certificate = own.getCertificate(name);
                if (certificate == null) {
                    throw new IllegalStateException("no certificate under alias '" + name + "' in " + keyStore(name));
                }
                trusted.setCertificateEntry(name, certificate);
            }
            try (OutputStream out = Files.newOutputStream(store)) {
                trusted.store(out, PASSWORD);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("making the trust store " + store + " failed", e);
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
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
