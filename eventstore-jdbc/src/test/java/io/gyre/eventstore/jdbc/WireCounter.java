package io.gyre.eventstore.jdbc;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * A TCP proxy in front of a PostgreSQL server that counts, on the wire, what clients make the server do: round trips
 * (one ReadyForQuery per Sync or simple Query, each a wait of the client for the server), transactions (a
 * ReadyForQuery that finds the session idle ends one, an implicit one of an auto-committed statement too), statements
 * parsed (Parse messages, named for a server-side prepared statement, unnamed for a one-shot) and executed (Execute
 * messages, simple Queries). Counting on the wire sees what the driver really sends, whatever the JDBC calls were.
 * Connect with {@code sslmode=disable&gssEncMode=disable}, so that the first message is the startup packet.
 */
final class WireCounter implements AutoCloseable {

    private final ServerSocket listener;
    private final int serverPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final LongAdder roundTrips = new LongAdder();
    final LongAdder transactions = new LongAdder();
    final LongAdder namedParses = new LongAdder();
    final LongAdder unnamedParses = new LongAdder();
    final LongAdder executes = new LongAdder();

    WireCounter(int serverPort) throws IOException {
        this.serverPort = serverPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "wire-counter-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @return the port clients connect to */
    int port() {
        return listener.getLocalPort();
    }

    /** @return the counts so far */
    Counts counts() {
        return new Counts(roundTrips.sum(), transactions.sum(), namedParses.sum(), unnamedParses.sum(),
                executes.sum());
    }

    /** What the counter has seen, or a difference of two readings. */
    record Counts(long roundTrips, long transactions, long namedParses, long unnamedParses, long executes) {
        Counts minus(Counts earlier) {
            return new Counts(roundTrips - earlier.roundTrips, transactions - earlier.transactions,
                    namedParses - earlier.namedParses, unnamedParses - earlier.unnamedParses,
                    executes - earlier.executes);
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client.getInputStream(), server.getOutputStream(), true, "wire-counter-up");
                pump(server.getInputStream(), client.getOutputStream(), false, "wire-counter-down");
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(InputStream from, OutputStream to, boolean fromClient, String name) {
        Thread thread = new Thread(() -> {
            try (DataInputStream in = new DataInputStream(from)) {
                if (fromClient) {
                    // The startup packet has a length and no type byte.
                    int length = in.readInt();
                    byte[] body = in.readNBytes(length - 4);
                    to.write(header(length));
                    to.write(body);
                }
                while (true) {
                    int type = in.readUnsignedByte();
                    int length = in.readInt();
                    byte[] body = in.readNBytes(length - 4);
                    count((char) type, body, fromClient);
                    byte[] message = new byte[1 + length];
                    message[0] = (byte) type;
                    System.arraycopy(header(length), 0, message, 1, 4);
                    System.arraycopy(body, 0, message, 5, body.length);
                    to.write(message);
                }
            } catch (IOException e) {
                // A side closed: close the other.
            } finally {
                try {
                    to.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void count(char type, byte[] body, boolean fromClient) {
        if (fromClient) {
            switch (type) {
                case 'P' -> (body.length > 0 && body[0] == 0 ? unnamedParses : namedParses).increment();
                case 'E', 'Q' -> executes.increment();
                default -> { }
            }
        } else if (type == 'Z') {
            roundTrips.increment();
            if (body.length > 0 && body[0] == 'I') {
                transactions.increment();
            }
        }
    }

    private static byte[] header(int length) {
        return new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
