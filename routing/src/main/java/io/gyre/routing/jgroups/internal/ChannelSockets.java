package io.gyre.routing.jgroups.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;
import org.jgroups.util.DefaultSocketFactory;

/**
 * Plain TCP sockets for JGroups that stay in blocking mode for good. JDK 17's default {@code Socket} switches its
 * descriptor to non-blocking mode forever after its first read with {@code SO_TIMEOUT}, which JGroups does on every
 * connection it accepts (reading the peer's address); from then on each wait for the next frame on that connection
 * costs a {@code read} that fails with {@code EAGAIN}, a {@code poll} and the {@code read} again, three system
 * calls instead of one. The sockets of {@link SocketChannel}s (in blocking mode) do their timed operations
 * without leaving blocking mode, so a connection's reader waits in a single {@code read}. Only the descriptor's
 * mode differs: timeouts, options and closing behave as before, except that interrupting a thread blocked in a
 * read or write on such a socket closes the connection (a channel's rule), which JGroups then opens again; Gyre
 * interrupts no thread that writes to a member except while closing. Not used with TLS, which has sockets of its
 * own.
 * Internal: not part of Gyre's API.
 */
public final class ChannelSockets {

    private ChannelSockets() {
    }

    /** @return a JGroups socket factory whose TCP sockets are channel sockets */
    public static org.jgroups.util.SocketFactory forJGroups() {
        return new DefaultSocketFactory(new Client(), new Server());
    }

    private static final class Client extends SocketFactory {

        @Override
        public Socket createSocket() throws IOException {
            return SocketChannel.open().socket();
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port), null);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port), null);
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
        }

        private Socket connected(InetSocketAddress to, InetSocketAddress from) throws IOException {
            Socket socket = createSocket();
            try {
                if (from != null) {
                    socket.bind(from);
                }
                socket.connect(to);
                return socket;
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
        }
    }

    private static final class Server extends ServerSocketFactory {

        @Override
        public ServerSocket createServerSocket() throws IOException {
            return ServerSocketChannel.open().socket();
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return bound(new InetSocketAddress(port), 50);
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog) throws IOException {
            return bound(new InetSocketAddress(port), backlog);
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
            return bound(address == null ? new InetSocketAddress(port) : new InetSocketAddress(address, port),
                    backlog);
        }

        private ServerSocket bound(InetSocketAddress at, int backlog) throws IOException {
            ServerSocket socket = createServerSocket();
            try {
                socket.bind(at, backlog);
                return socket;
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
        }
    }
}
