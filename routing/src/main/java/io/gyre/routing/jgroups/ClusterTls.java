package io.gyre.routing.jgroups;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.Objects;

/**
 * Mutual TLS for a cluster's connections: every member presents the certificate in its key store and accepts only
 * peers whose certificate its trust store vouches for. A process without such a certificate cannot join, cannot
 * read the traffic and cannot have a command run. The stores are PKCS#12 (or JKS) files, for example secrets
 * mounted as files on Kubernetes; they are loaded once when the bus is built, so a wrong path or password fails
 * the build with a message naming the file.
 *
 * <pre>{@code
 * JGroupsCommandBus.builder()
 *         .bindAddress(InetAddress.getByName("10.0.0.5"))
 *         .tls(ClusterTls.of(Path.of("/etc/gyre/node.p12"), keyPassword, Path.of("/etc/gyre/cluster-ca.p12"), trustPassword))
 *         .build();
 * }</pre>
 *
 * <p>Immutable: the passwords are copied.
 */
public final class ClusterTls {

    private final Path keyStore;
    private final char[] keyStorePassword;
    private final String keyStoreType;
    private final Path trustStore;
    private final char[] trustStorePassword;
    private final String trustStoreType;

    private ClusterTls(Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword) {
        this.keyStore = keyStore;
        this.keyStorePassword = keyStorePassword.clone();
        this.trustStore = trustStore;
        this.trustStorePassword = trustStorePassword.clone();
        this.keyStoreType = check("key store", keyStore, this.keyStorePassword);
        this.trustStoreType = check("trust store", trustStore, this.trustStorePassword);
    }

    /**
     * @param keyStore           this member's private key and certificate
     * @param keyStorePassword   its password
     * @param trustStore         the certificates (or the authority) this member trusts its peers by
     * @param trustStorePassword its password
     * @return the settings
     * @throws IllegalArgumentException when a store cannot be read or opened with its password; the message names
     *                                  the file and the reason
     */
    public static ClusterTls of(Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword) {
        Objects.requireNonNull(keyStore, "keyStore");
        Objects.requireNonNull(keyStorePassword, "keyStorePassword");
        Objects.requireNonNull(trustStore, "trustStore");
        Objects.requireNonNull(trustStorePassword, "trustStorePassword");
        return new ClusterTls(keyStore, keyStorePassword, trustStore, trustStorePassword);
    }

    /** @return this member's key store */
    public Path keyStore() {
        return keyStore;
    }

    /** @return the trust store */
    public Path trustStore() {
        return trustStore;
    }

    /** @return the key store's password, a copy */
    char[] keyStorePassword() {
        return keyStorePassword.clone();
    }

    /** @return the trust store's password, a copy */
    char[] trustStorePassword() {
        return trustStorePassword.clone();
    }

    /** @return the key store's type, PKCS12 or JKS */
    String keyStoreType() {
        return keyStoreType;
    }

    /** @return the trust store's type, PKCS12 or JKS */
    String trustStoreType() {
        return trustStoreType;
    }

    /** Opens a store as PKCS#12, then as JKS, and says which worked; names the file when neither did. */
    private static String check(String what, Path file, char[] password) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("The TLS " + what + " " + file.toAbsolutePath() + " cannot be read "
                    + "(missing, or no permission)");
        }
        GeneralSecurityException last = null;
        for (String type : new String[] {"PKCS12", "JKS"}) {
            try (InputStream in = Files.newInputStream(file)) {
                KeyStore store = KeyStore.getInstance(type);
                store.load(in, password);
                if (store.size() == 0) {
                    throw new IllegalArgumentException("The TLS " + what + " " + file.toAbsolutePath() + " holds no "
                            + "key or certificate");
                }
                return type;
            } catch (GeneralSecurityException e) {
                last = e;
            } catch (IOException e) {
                if (e.getCause() instanceof java.security.UnrecoverableKeyException || String.valueOf(e.getMessage())
                        .contains("password")) {
                    throw new IllegalArgumentException("The TLS " + what + " " + file.toAbsolutePath()
                            + " cannot be opened with the password given", e);
                }
                last = new GeneralSecurityException(e);
            }
        }
        throw new IllegalArgumentException("The TLS " + what + " " + file.toAbsolutePath() + " is neither a PKCS#12 "
                + "nor a JKS store that opens with the password given", last);
    }

    @Override
    public String toString() {
        return "ClusterTls[key store " + keyStore + ", trust store " + trustStore + "]";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ClusterTls tls && tls.keyStore.equals(keyStore) && tls.trustStore.equals(trustStore)
                && Arrays.equals(tls.keyStorePassword, keyStorePassword)
                && Arrays.equals(tls.trustStorePassword, trustStorePassword);
    }

    @Override
    public int hashCode() {
        return Objects.hash(keyStore, trustStore);
    }
}
