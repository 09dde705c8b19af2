package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The sockets JGroups gets from {@link ChannelSockets} keep their descriptors in blocking mode through the timed
 * operations JGroups does on every connection (a connect with a timeout, a read with {@code SO_TIMEOUT}), on both
 * the connecting and the accepting side, and still honour those timeouts. The descriptor's mode is read from
 * Linux's {@code /proc}; elsewhere the test is skipped. A plain JDK socket put through the same steps serves as the
 * control: after a timed read it must be non-blocking, or the test would prove nothing.
 */
class ChannelSocketsTest {

    private static final int O_NONBLOCK = 04000;

    @Test
    void timedConnectAndTimedReadLeaveBothEndsBlocking() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/net/tcp")), "needs Linux's /proc");
        org.jgroups.util.SocketFactory factory = ChannelSockets.forJGroups();
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = factory.createServerSocket("test", 0, 50, loopback);
             Socket client = factory.createSocket("test")) {
            client.connect(new InetSocketAddress(loopback, server.getLocalPort()), 1_000);
            try (Socket accepted = server.accept()) {
                accepted.setSoTimeout(50);
                InputStream in = accepted.getInputStream();
                assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
                accepted.setSoTimeout(0);

                OutputStream out = client.getOutputStream();
                out.write(new byte[] {0, 0, 0, 3, 7, 8, 9});
                out.flush();
                DataInputStream data = new DataInputStream(in);
                byte[] frame = new byte[data.readInt()];
                data.readFully(frame);
                assertThat(frame).containsExactly(7, 8, 9);

                client.setSoTimeout(50);
                assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);

                assertThat(nonBlocking(client)).as("connecting side non-blocking").isFalse();
                assertThat(nonBlocking(accepted)).as("accepting side non-blocking").isFalse();
            }
        }
    }

    @Test
    void aPlainSocketTurnsNonBlockingAfterATimedRead() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/net/tcp")), "needs Linux's /proc");
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = new ServerSocket(0, 50, loopback); Socket client = new Socket()) {
            client.connect(new InetSocketAddress(loopback, server.getLocalPort()), 1_000);
            try (Socket accepted = server.accept()) {
                accepted.setSoTimeout(50);
                assertThatThrownBy(() -> accepted.getInputStream().read())
                        .isInstanceOf(SocketTimeoutException.class);
                assertThat(nonBlocking(accepted)).as("the control: a plain socket after a timed read").isTrue();
            }
        }
    }

    /** Whether the descriptor of a connected loopback socket (IPv4 or IPv6) has O_NONBLOCK, found by its inode. */
    private static boolean nonBlocking(Socket socket) throws IOException {
        String local = String.format(Locale.ROOT, ":%04X", socket.getLocalPort());
        String remote = String.format(Locale.ROOT, ":%04X", socket.getPort());
        String inode = null;
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(Path.of("/proc/self/net/tcp")));
        Path tcp6 = Path.of("/proc/self/net/tcp6");
        if (Files.isReadable(tcp6)) {
            lines.addAll(Files.readAllLines(tcp6));
        }
        for (String line : lines) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length > 9 && fields[1].endsWith(local) && fields[2].endsWith(remote)) {
                inode = fields[9];
            }
        }
        assertThat(inode).as("the socket in /proc/self/net/tcp").isNotNull();
        String target = "socket:[" + inode + "]";
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(target)) {
                        List<String> info = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.getFileName()));
                        String flags = info.stream().filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
                        return (Integer.parseInt(flags.substring(6).trim(), 8) & O_NONBLOCK) != 0;
                    }
                } catch (IOException e) {
                    // a descriptor closed meanwhile: not ours
                }
            }
        }
        throw new AssertionError("no descriptor for " + target);
    }
}
