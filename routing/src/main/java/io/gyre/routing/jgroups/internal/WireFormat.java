package io.gyre.routing.jgroups.internal;

import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.AdvertisementRequest;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.routing.jgroups.internal.WireMessage.WireError;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 * than the frame's own remaining bytes. Internal: not part of Gyre's API.
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
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(messages.size());
            for (WireMessage message : messages) {
                write(out, message);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * @param message a message
     * @return its bytes as they appear in a frame; put such bodies in a frame with {@link #frame(List, int)}
     */
    public static byte[] body(WireMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out, message);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
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

    private static void write(DataOutputStream out, WireMessage message) throws IOException {
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
                out.writeInt(error.kind());
                writeString(out, error.type());
                writeString(out, error.message());
                writeString(out, error.text1());
                writeString(out, error.text2());
                out.writeLong(error.number1());
                out.writeLong(error.number2());
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
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, offset, length))) {
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
        } catch (IOException e) {
            throw new SerializationException("Truncated or malformed cluster message: " + e, e);
        }
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

    private static WireMessage read(DataInputStream in) throws IOException {
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
            default -> throw new SerializationException("Unknown cluster message kind " + kind, null);
        };
    }

    /** Bounds the count before reading; names and segment counts are checked by the receiver's membership. */
    private static ProcessorsAdvertisement readProcessors(DataInputStream in) throws IOException {
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

    private static Reply readReply(DataInputStream in) throws IOException {
        long requestId = in.readLong();
        byte outcome = in.readByte();
        SerializedValue result = null;
        WireError error = null;
        if (outcome == 1) {
            result = new SerializedValue(readString(in), readString(in));
        } else if (outcome == 2) {
            error = new WireError(in.readInt(), readString(in), readString(in), readString(in), readString(in),
                    in.readLong(), in.readLong());
        } else if (outcome != 0) {
            throw new SerializationException("Unknown reply outcome " + outcome, null);
        }
        return new Reply(requestId, result, error);
    }

    private static void writeString(DataOutputStream out, @Nullable String value) throws IOException {
        byte[] utf8 = (value == null ? "" : value).getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_STRING_BYTES || length > in.available()) {
            throw new SerializationException("Malformed cluster message: a string of " + length + " bytes", null);
        }
        byte[] utf8 = in.readNBytes(length);
        return new String(utf8, StandardCharsets.UTF_8);
    }
}
