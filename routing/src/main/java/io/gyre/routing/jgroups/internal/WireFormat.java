package io.gyre.routing.jgroups.internal;

import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.AdvertisementRequest;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
import io.gyre.routing.jgroups.internal.WireMessage.OutsideViewRefusal;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.routing.jgroups.internal.WireMessage.SendAgain;
import io.gyre.routing.jgroups.internal.WireMessage.WireError;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The binary form of {@link WireMessage}s. One JGroups message carries a frame: a format version, the number of
 * messages, then each message as a kind and its fields, strings as length-prefixed UTF-8. Several commands and
 * replies that are ready at once travel in one frame. Payloads stay JSON text produced by the node's allow-list
 * serializer; nothing here instantiates a class named by the data, and no length read from the data allocates more
 * than the frame's own remaining bytes. Messages are written straight into their frame and read straight from the
 * received bytes (no stream objects and no copy per message): a routed command crosses this code twice each way.
 * Internal: not part of Gyre's API.
 */
public final class WireFormat {

    private static final byte VERSION = 2;
    /** The most messages one frame may hold. */
    public static final int MAX_MESSAGES_PER_FRAME = 10_000;
    private static final byte COMMAND = 1;
    private static final byte REPLY = 2;
    private static final byte ADVERTISEMENT = 3;
    private static final byte LEAVING = 4;
    private static final byte ADVERTISEMENT_REQUEST = 5;
    private static final byte PROCESSORS = 6;
    private static final byte OUTSIDE_VIEW_REFUSAL = 7;
    private static final byte SEND_AGAIN = 8;
    /**
     * The fewest bytes a command takes in a frame (every string empty): a kind, two longs, an int, a boolean, a long
     * and six string lengths.
     */
    public static final int MIN_COMMAND_BYTES = 1 + 8 + 8 + 4 + 4 + 4 + 1 + 8 + 4 + 4 + 4 + 4;
    /** The most processors one member may advertise. */
    public static final int MAX_PROCESSORS = 1000;
    private static final int MAX_STRING_BYTES = 64 * 1024 * 1024;
    private static final int MAX_HOSTED_TYPES = 10_000;
    private static final int MAX_COMMAND_TYPES = 100_000;

    private WireFormat() {
    }

    /**
     * @param message a message
     * @return a frame holding just it
     */
    public static byte[] encode(WireMessage message) {
        return encode(List.of(message));
    }

    /**
     * @param messages messages, 1 to {@value #MAX_MESSAGES_PER_FRAME}
     * @return one frame holding them in order
     */
    public static byte[] encode(List<? extends WireMessage> messages) {
        if (messages.isEmpty() || messages.size() > MAX_MESSAGES_PER_FRAME) {
            throw new IllegalArgumentException("a frame holds 1 to " + MAX_MESSAGES_PER_FRAME + " messages, not "
                    + messages.size());
        }
        FrameBuilder frame = new FrameBuilder();
        for (WireMessage message : messages) {
            frame.append(message);
        }
        return frame.finish();
    }

    /**
     * @param message a message
     * @return its bytes as they appear in a frame; put such bodies in a frame with {@link #frame(List, int)}
     */
    public static byte[] body(WireMessage message) {
        Out out = new Out(256);
        write(out, message);
        return Arrays.copyOf(out.bytes, out.size);
    }

    /** The bytes a frame adds to the bodies it holds. */
    public static final int FRAME_OVERHEAD = 5;

    /**
     * @param bodies     message bodies from {@link #body(WireMessage)}, 1 to {@value #MAX_MESSAGES_PER_FRAME}
     * @param totalBytes the sum of their lengths
     * @return one frame holding them in order
     */
    public static byte[] frame(List<byte[]> bodies, int totalBytes) {
        if (bodies.isEmpty() || bodies.size() > MAX_MESSAGES_PER_FRAME) {
            throw new IllegalArgumentException("a frame holds 1 to " + MAX_MESSAGES_PER_FRAME + " messages, not "
                    + bodies.size());
        }
        byte[] frame = new byte[FRAME_OVERHEAD + totalBytes];
        frame[0] = VERSION;
        int count = bodies.size();
        frame[1] = (byte) (count >>> 24);
        frame[2] = (byte) (count >>> 16);
        frame[3] = (byte) (count >>> 8);
        frame[4] = (byte) count;
        int at = FRAME_OVERHEAD;
        for (byte[] body : bodies) {
            System.arraycopy(body, 0, frame, at, body.length);
            at += body.length;
        }
        return frame;
    }

    /**
     * One frame, built by appending messages: each is written once, straight into the frame. Not thread-safe; reusable
     * after {@link #finish()}.
     */
    public static final class FrameBuilder {

        private final Out out = new Out(512);
        private int messages;

        /** Starts an empty frame. */
        public FrameBuilder() {
            clear();
        }

        /**
         * @param message a message to add at the end
         * @return the bytes it takes in the frame
         */
        public int append(WireMessage message) {
            if (messages == MAX_MESSAGES_PER_FRAME) {
                throw new IllegalStateException("a frame holds at most " + MAX_MESSAGES_PER_FRAME + " messages");
            }
            int before = out.size;
            try {
                write(out, message);
            } catch (RuntimeException e) {
                out.size = before;
                throw e;
            }
            messages++;
            return out.size - before;
        }

        /**
         * Takes the last message out again, as if it had never been appended.
         *
         * @param length the bytes it took, as {@link #append} returned
         */
        public void removeLast(int length) {
            if (messages == 0 || length < 0 || length > out.size - FRAME_OVERHEAD) {
                throw new IllegalStateException("no message of " + length + " bytes to remove");
            }
            out.size -= length;
            messages--;
        }

        /** @return the messages in the frame so far */
        public int messages() {
            return messages;
        }

        /** @return the frame's length so far, overhead included */
        public int length() {
            return out.size;
        }

        /**
         * @return the frame holding the messages appended since the last call, in order; the builder is empty again
         * @throws IllegalStateException when it holds no message
         */
        public byte[] finish() {
            if (messages == 0) {
                throw new IllegalStateException("a frame holds 1 to " + MAX_MESSAGES_PER_FRAME + " messages, not 0");
            }
            byte[] frame = Arrays.copyOf(out.bytes, out.size);
            frame[1] = (byte) (messages >>> 24);
            frame[2] = (byte) (messages >>> 16);
            frame[3] = (byte) (messages >>> 8);
            frame[4] = (byte) messages;
            clear();
            return frame;
        }

        private void clear() {
            out.size = 0;
            out.writeByte(VERSION);
            out.writeInt(0); // the count, set by finish()
            messages = 0;
        }
    }

    /** A growable byte array written big-endian, as {@code DataOutputStream} does, without its copies. */
    private static final class Out {

        byte[] bytes;
        int size;

        Out(int capacity) {
            bytes = new byte[capacity];
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
            }
        }

        void writeByte(int value) {
            ensure(1);
            bytes[size++] = (byte) value;
        }

        void writeBoolean(boolean value) {
            writeByte(value ? 1 : 0);
        }

        void writeInt(int value) {
            ensure(4);
            bytes[size] = (byte) (value >>> 24);
            bytes[size + 1] = (byte) (value >>> 16);
            bytes[size + 2] = (byte) (value >>> 8);
            bytes[size + 3] = (byte) value;
            size += 4;
        }

        void writeLong(long value) {
            writeInt((int) (value >>> 32));
            writeInt((int) value);
        }

        /** Length-prefixed UTF-8; ASCII, the usual case, is copied char by char without an intermediate array. */
        void writeString(@Nullable String value) {
            String text = value == null ? "" : value;
            int length = text.length();
            ensure(4 + length);
            int at = size + 4;
            for (int i = 0; i < length; i++) {
                char c = text.charAt(i);
                if (c >= 0x80) {
                    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
                    writeInt(utf8.length);
                    ensure(utf8.length);
                    System.arraycopy(utf8, 0, bytes, size, utf8.length);
                    size += utf8.length;
                    return;
                }
                bytes[at++] = (byte) c;
            }
            writeInt(length);
            size += length;
        }
    }

    /** Reads what {@link Out} wrote, within given bounds; running past them is a malformed message. */
    private static final class In {

        private final byte[] bytes;
        private int at;
        private final int end;

        In(byte[] bytes, int offset, int length) {
            if (offset < 0 || length < 0 || offset + length > bytes.length) {
                throw new SerializationException("Malformed cluster message: bounds " + offset + "+" + length
                        + " outside " + bytes.length + " bytes", null);
            }
            this.bytes = bytes;
            this.at = offset;
            this.end = offset + length;
        }

        int available() {
            return end - at;
        }

        private void need(int count) {
            if (end - at < count) {
                throw new SerializationException("Truncated or malformed cluster message: " + count + " bytes "
                        + "expected, " + (end - at) + " left", null);
            }
        }

        byte readByte() {
            need(1);
            return bytes[at++];
        }

        boolean readBoolean() {
            return readByte() != 0;
        }

        int readInt() {
            need(4);
            int value = (bytes[at] & 0xff) << 24 | (bytes[at + 1] & 0xff) << 16 | (bytes[at + 2] & 0xff) << 8
                    | (bytes[at + 3] & 0xff);
            at += 4;
            return value;
        }

        long readLong() {
            return (long) readInt() << 32 | (readInt() & 0xffffffffL);
        }

        String readString(int length) {
            need(length);
            String value = new String(bytes, at, length, StandardCharsets.UTF_8);
            at += length;
            return value;
        }
    }

    private static void write(Out out, WireMessage message) {
        if (message instanceof CommandRequest c) {
            out.writeByte(COMMAND);
            out.writeLong(c.requestId());
            out.writeLong(c.ringVersion());
            writeString(out, c.aggregateType());
            writeString(out, c.commandId());
            out.writeInt(c.attempt());
            out.writeBoolean(c.callerChosenId());
            out.writeLong(c.remainingNanos());
            writeString(out, c.commandType());
            writeString(out, c.routingKey());
            writeString(out, c.metadata());
            writeString(out, c.payload());
        } else if (message instanceof Reply r) {
            out.writeByte(REPLY);
            out.writeLong(r.requestId());
            SerializedValue result = r.result();
            WireError error = r.error();
            out.writeByte(error != null ? 2 : result != null ? 1 : 0);
            if (result != null) {
                writeString(out, result.type());
                writeString(out, result.data());
            }
            if (error != null) {
                WireErrorLayout layout = WireErrorLayout.of(error);
                out.writeInt(layout.kind());
                writeString(out, layout.type());
                writeString(out, layout.message());
                writeString(out, layout.text1());
                writeString(out, layout.text2());
                out.writeLong(layout.number1());
                out.writeLong(layout.number2());
            }
        } else if (message instanceof Advertisement a) {
            out.writeByte(ADVERTISEMENT);
            writeString(out, a.memberId());
            out.writeInt(a.weight());
            out.writeInt(a.hosted().size());
            for (Map.Entry<String, Set<String>> hosted : a.hosted().entrySet()) {
                writeString(out, hosted.getKey());
                out.writeInt(hosted.getValue().size());
                for (String command : hosted.getValue()) {
                    writeString(out, command);
                }
            }
        } else if (message instanceof Leaving l) {
            out.writeByte(LEAVING);
            writeString(out, l.memberId());
        } else if (message instanceof AdvertisementRequest r) {
            out.writeByte(ADVERTISEMENT_REQUEST);
            writeString(out, r.memberId());
        } else if (message instanceof ProcessorsAdvertisement p) {
            out.writeByte(PROCESSORS);
            writeString(out, p.memberId());
            out.writeLong(p.incarnation());
            out.writeLong(p.version());
            out.writeInt(p.processors().size());
            for (Map.Entry<String, Integer> processor : p.processors().entrySet()) {
                writeString(out, processor.getKey());
                out.writeInt(processor.getValue());
            }
        } else if (message instanceof OutsideViewRefusal r) {
            out.writeByte(OUTSIDE_VIEW_REFUSAL);
            out.writeLong(r.ringVersion());
            out.writeLong(r.viewId());
            out.writeInt(r.requestIds().size());
            for (long requestId : r.requestIds()) {
                out.writeLong(requestId);
            }
        } else if (message instanceof SendAgain s) {
            out.writeByte(SEND_AGAIN);
            out.writeLong(s.viewId());
        }
    }

    /**
     * A message read from a frame, with the bytes it took there.
     *
     * @param message the message
     * @param length  its encoded length
     */
    public record Decoded(WireMessage message, int length) {
    }

    /**
     * @param bytes  a frame from another member
     * @param offset where it starts
     * @param length how long it is
     * @return its messages in order
     * @throws SerializationException when the bytes are not a frame of this format version
     */
    public static List<Decoded> decode(byte[] bytes, int offset, int length) {
        In in = new In(bytes, offset, length);
        byte version = in.readByte();
        if (version != VERSION) {
            throw new SerializationException("Cluster message of format version " + version + "; this member "
                    + "speaks version " + VERSION + " (are all members on compatible Gyre versions?)", null);
        }
        int count = in.readInt();
        if (count < 1 || count > MAX_MESSAGES_PER_FRAME) {
            throw new SerializationException("Malformed cluster message: a frame of " + count + " messages",
                    null);
        }
        List<Decoded> messages = new ArrayList<>(Math.min(count, 64));
        for (int i = 0; i < count; i++) {
            int before = in.available();
            WireMessage message = read(in);
            messages.add(new Decoded(message, before - in.available()));
        }
        return messages;
    }

    /**
     * @param bytes a frame holding exactly one message
     * @return that message
     * @throws SerializationException when the bytes are not such a frame
     */
    public static WireMessage decodeOne(byte[] bytes) {
        List<Decoded> messages = decode(bytes, 0, bytes.length);
        if (messages.size() != 1) {
            throw new SerializationException("Expected one message in the frame, found " + messages.size(), null);
        }
        return messages.get(0).message();
    }

    private static WireMessage read(In in) {
        byte kind = in.readByte();
        return switch (kind) {
            case COMMAND -> new CommandRequest(in.readLong(), in.readLong(), readString(in), readString(in),
                    in.readInt(), in.readBoolean(), in.readLong(), readString(in), readString(in), readString(in),
                    readString(in));
            case REPLY -> readReply(in);
            case ADVERTISEMENT -> {
                String memberId = readString(in);
                int weight = in.readInt();
                int count = in.readInt();
                if (count < 0 || count > MAX_HOSTED_TYPES) {
                    throw new SerializationException("Advertisement with " + count + " aggregate types", null);
                }
                Map<String, Set<String>> hosted = new LinkedHashMap<>();
                int commands = 0;
                for (int i = 0; i < count; i++) {
                    String type = readString(in);
                    int handled = in.readInt();
                    commands += Math.max(0, handled);
                    if (handled < 0 || commands > MAX_COMMAND_TYPES) {
                        throw new SerializationException("Advertisement with more than " + MAX_COMMAND_TYPES
                                + " command types", null);
                    }
                    Set<String> types = new LinkedHashSet<>();
                    for (int j = 0; j < handled; j++) {
                        types.add(readString(in));
                    }
                    hosted.put(type, types);
                }
                yield new Advertisement(memberId, weight, hosted);
            }
            case LEAVING -> new Leaving(readString(in));
            case ADVERTISEMENT_REQUEST -> new AdvertisementRequest(readString(in));
            case PROCESSORS -> readProcessors(in);
            case OUTSIDE_VIEW_REFUSAL -> readOutsideViewRefusal(in);
            case SEND_AGAIN -> new SendAgain(in.readLong());
            default -> throw new SerializationException("Unknown cluster message kind " + kind, null);
        };
    }

    /** Bounds the count before reading; names and segment counts are checked by the receiver's membership. */
    private static ProcessorsAdvertisement readProcessors(In in) {
        String memberId = readString(in);
        long incarnation = in.readLong();
        long version = in.readLong();
        int count = in.readInt();
        if (count < 0 || count > MAX_PROCESSORS) {
            throw new SerializationException("Processors advertisement with " + count + " processors; at most "
                    + MAX_PROCESSORS + " are allowed", null);
        }
        Map<String, Integer> processors = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            processors.put(readString(in), in.readInt());
        }
        return new ProcessorsAdvertisement(memberId, incarnation, version, processors);
    }

    /** Bounds the count, and checks the frame holds that many ids, before allocating for them. */
    private static OutsideViewRefusal readOutsideViewRefusal(In in) {
        long ringVersion = in.readLong();
        long viewId = in.readLong();
        int count = in.readInt();
        if (count < 1 || count > OutsideViewRefusal.MAX_REQUEST_IDS || (long) count * 8 > in.available()) {
            throw new SerializationException("Malformed cluster message: a refusal of " + count + " requests in "
                    + in.available() + " bytes; 1 to " + OutsideViewRefusal.MAX_REQUEST_IDS + " are allowed", null);
        }
        Long[] requestIds = new Long[count];
        for (int i = 0; i < count; i++) {
            requestIds[i] = in.readLong();
        }
        return new OutsideViewRefusal(ringVersion, viewId, Arrays.asList(requestIds));
    }

    private static Reply readReply(In in) {
        long requestId = in.readLong();
        byte outcome = in.readByte();
        SerializedValue result = null;
        WireError error = null;
        if (outcome == 1) {
            result = new SerializedValue(readString(in), readString(in));
        } else if (outcome == 2) {
            error = new WireErrorLayout(in.readInt(), readString(in), readString(in), readString(in), readString(in),
                    in.readLong(), in.readLong()).error();
        } else if (outcome != 0) {
            throw new SerializationException("Unknown reply outcome " + outcome, null);
        }
        return new Reply(requestId, result, error);
    }

    private static void writeString(Out out, @Nullable String value) {
        out.writeString(value);
    }

    private static String readString(In in) {
        int length = in.readInt();
        if (length < 0 || length > MAX_STRING_BYTES || length > in.available()) {
            throw new SerializationException("Malformed cluster message: a string of " + length + " bytes", null);
        }
        return in.readString(length);
    }
}
