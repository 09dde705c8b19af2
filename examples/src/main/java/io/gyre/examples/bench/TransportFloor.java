package io.gyre.examples.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;

/**
 * The floor under a routed command: a bare request and its reply through the very channels of a running cluster
 * (Gyre's default stack: TCP without a bundler, non-blocking sends, messages passed up on the reading thread, UNICAST3,
 * UFC), with none of Gyre's work: no outbox, no command, no worker, no serialization beyond a fixed byte array. A
 * protocol put on top of each member's stack ({@link #newEcho()}, through {@code JGroupsCommandBus.Builder
 * .customizeStack}) answers a request on the thread that read it and wakes the waiting client on the thread that read
 * the reply; every other message passes up to Gyre untouched. Closed-loop clients, spread over the members like the
 * benchmark's command clients, each send one request to another member at a time and wait for its reply.
 *
 * <p>What a round measures is what the transport alone costs per round trip: the process's CPU, the CPU of the
 * threads on the path, thread switches, latency. Next to the routed command's cost above a local one, it says how much
 * of that cost Gyre could remove at best while keeping JGroups.
 */
final class TransportFloor {

    /** Marks a floor frame; Gyre's frames begin with their wire format's version, never with this. */
    private static final byte[] MAGIC = {(byte) 0xF1, 0x00, (byte) 0xF1, 0x00, 0x42, 0x61, 0x72, 0x65};
    private static final byte REQUEST = 1;
    private static final byte REPLY = 2;
    /** About the size of a routed Deposit command's frame and of its reply's. */
    private static final int REQUEST_BYTES = 160;
    private static final int REPLY_BYTES = 48;

    private final List<Echo> members = new CopyOnWriteArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private CyclicBarrier roundStart;
    private CyclicBarrier roundEnd;
    private volatile boolean running;
    private volatile boolean closed;

    /** @return a protocol for the top of one member's stack; call once per member */
    Protocol newEcho() {
        Echo echo = new Echo();
        members.add(echo);
        return echo;
    }

    /** One round's figures, per round trip. */
    record Round(double perSecond, double p50Millis, double p99Millis, double cpuMicros, double pathCpuMicros,
                 double switches) {
    }

    /**
     * Runs one round: closed-loop clients (started with the first round and kept, so that their CPU is counted) each
     * send requests to another member than their own, one at a time.
     *
     * @param seconds how long
     * @param count   clients, spread over the members
     * @return the round's figures
     */
    Round run(double seconds, int count) throws Exception {
        if (clients.isEmpty()) {
            start(count);
        }
        for (Client client : clients) {
            client.count = 0;
        }
        Map<String, Long> switchesBefore = ClusterBenchmark.threadSwitches();
        Map<String, ThreadCpu.Sample> threadsBefore = ThreadCpu.now();
        long cpuBefore = ClusterBenchmark.processCpuNanos();
        running = true;
        roundStart.await();
        long began = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        running = false;
        roundEnd.await();
        double elapsed = (System.nanoTime() - began) / 1e9;
        long cpu = ClusterBenchmark.processCpuNanos() - cpuBefore;
        Map<String, Long> byGroup = ThreadCpu.spent(threadsBefore, ThreadCpu.now());
        long switches = 0;
        for (Map.Entry<String, Long> after : ClusterBenchmark.threadSwitches().entrySet()) {
            Long before = switchesBefore.get(after.getKey());
            switches += after.getValue() - (before == null ? 0 : before);
        }
        long total = 0;
        List<long[]> samples = new ArrayList<>();
        for (Client client : clients) {
            total += client.count;
            samples.add(Arrays.copyOf(client.nanos, (int) Math.min(client.count, client.nanos.length)));
        }
        long[] all = samples.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        long path = 0;
        for (String group : ThreadCpu.COMMAND_PATH) {
            path += byGroup.getOrDefault(group, 0L);
        }
        return new Round(total / elapsed, percentile(all, 0.5) / 1e6, percentile(all, 0.99) / 1e6,
                cpu / 1e3 / Math.max(1, total), path / 1e3 / Math.max(1, total), (double) switches / Math.max(1, total));
    }

    private void start(int count) {
        if (members.size() < 2) {
            throw new IllegalStateException("the floor needs at least two members, has " + members.size());
        }
        roundStart = new CyclicBarrier(count + 1);
        roundEnd = new CyclicBarrier(count + 1);
        for (int c = 0; c < count; c++) {
            Client client = new Client(c, members.get(c % members.size()));
            clients.add(client);
            Thread thread = new Thread(client, "bench-client-floor-" + c);
            thread.setDaemon(true);
            client.thread = thread;
            thread.start();
        }
    }

    /** Ends the clients; the members' channels close with their buses. */
    void close() {
        closed = true;
        for (Client client : clients) {
            LockSupport.unpark(client.thread);
            client.thread.interrupt();
        }
    }

    /** A closed-loop client on one member. */
    private final class Client implements Runnable {

        private final int index;
        private final Echo home;
        final long[] nanos = new long[500_000];
        volatile long count;
        volatile Thread thread;
        /** The sequence of the last reply received. */
        private volatile long answered;

        Client(int index, Echo home) {
            this.index = index;
            this.home = home;
        }

        @Override
        public void run() {
            long sequence = 0;
            try {
                while (!closed) {
                    roundStart.await();
                    long sent = 0;
                    while (running) {
                        Echo to = otherThan(home);
                        sequence++;
                        long before = System.nanoTime();
                        home.send(to.address(), frame(REQUEST, index, sequence, REQUEST_BYTES));
                        while (answered != sequence && !closed) {
                            LockSupport.park(this);
                        }
                        long took = System.nanoTime() - before;
                        if (sent < nanos.length) {
                            nanos[(int) sent] = took;
                        }
                        sent++;
                        count = sent;
                    }
                    roundEnd.await();
                }
            } catch (Exception e) {
                if (!closed) {
                    throw new IllegalStateException(e);
                }
            }
        }

        void answer(long sequence) {
            answered = sequence;
            LockSupport.unpark(thread);
        }
    }

    private Echo otherThan(Echo home) {
        while (true) {
            Echo pick = members.get(ThreadLocalRandom.current().nextInt(members.size()));
            if (pick != home) {
                return pick;
            }
        }
    }

    private static byte[] frame(byte kind, int client, long sequence, int size) {
        ByteBuffer frame = ByteBuffer.allocate(size);
        frame.put(MAGIC).put(kind).putInt(client).putLong(sequence);
        return frame.array();
    }

    private static boolean isFloorFrame(Message message) {
        if (!(message instanceof BytesMessage) || message.getLength() < MAGIC.length + 13) {
            return false;
        }
        byte[] array = message.getArray();
        return Arrays.equals(array, message.getOffset(), message.getOffset() + MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /** The protocol on top of a member's stack: answers floor requests, completes floor replies, passes the rest. */
    private final class Echo extends Protocol {

        Address address() {
            return getProtocolStack().getChannel().address();
        }

        void send(Address to, byte[] frame) {
            down_prot.down(new BytesMessage(to, frame));
        }

        @Override
        public Object up(Message message) {
            if (isFloorFrame(message)) {
                handle(message);
                return null;
            }
            return up_prot.up(message);
        }

        @Override
        public void up(MessageBatch batch) {
            for (java.util.Iterator<Message> messages = batch.iterator(); messages.hasNext(); ) {
                Message message = messages.next();
                if (isFloorFrame(message)) {
                    handle(message);
                    messages.remove();
                }
            }
            if (!batch.isEmpty()) {
                up_prot.up(batch);
            }
        }

        private void handle(Message message) {
            ByteBuffer frame = ByteBuffer.wrap(message.getArray(), message.getOffset() + MAGIC.length,
                    message.getLength() - MAGIC.length);
            byte kind = frame.get();
            int client = frame.getInt();
            long sequence = frame.getLong();
            if (kind == REQUEST) {
                send(message.getSrc(), frame(REPLY, client, sequence, REPLY_BYTES));
            } else if (kind == REPLY) {
                clients.get(client).answer(sequence);
            }
        }
    }

    private static double percentile(long[] sorted, double quantile) {
        return sorted.length == 0 ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.floor(quantile * sorted.length))];
    }
}
