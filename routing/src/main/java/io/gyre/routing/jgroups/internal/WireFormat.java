package io.gyre.routing.jgroups.internal;

import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
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
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The binary form of {@link WireMessage}s: a format version, a kind, then the fields, strings as length-prefixed
 * UTF-8. Payloads stay JSON text produced by the node's allow-list serializer; nothing here instantiates a class
 * named by the data. Internal: not part of Gyre's API.
 */
public final class WireFormat {

    private static final byte VERSION = 1;
    private static final byte COMMAND = 1;
    private static final byte REPLY = 2;
    private static final byte ADVERTISEMENT = 3;
    private static final byte LEAVING = 4;
    private static final int MAX_STRING_BYTES = 64 * 1024 * 1024;
    private static final int MAX_COMMAND_TYPES = 100_000;

    private WireFormat() {
    }

    /**
     * @param message a message
     * @return its bytes
     */
    public static byte[] encode(WireMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            if (message instanceof CommandRequest c) {
                out.writeByte(COMMAND);
                out.writeLong(c.requestId());
                out.writeLong(c.ringVersion());
                writeString(out, c.commandId());
                out.writeInt(c.attempt());
                out.writeBoolean(c.callerChosenId());
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
                out.writeInt(a.commandTypes().size());
                for (String type : a.commandTypes()) {
                    writeString(out, type);
                }
            } else if (message instanceof Leaving l) {
                out.writeByte(LEAVING);
                writeString(out, l.memberId());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * @param bytes a message's bytes from another member
     * @param offset where it starts
     * @param length how long it is
     * @return the message
     * @throws SerializationException when the bytes are not a message of this format version
     */
    public static WireMessage decode(byte[] bytes, int offset, int length) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, offset, length))) {
            byte version = in.readByte();
            if (version != VERSION) {
                throw new SerializationException("Cluster message of format version " + version + "; this member "
                        + "speaks version " + VERSION + " (are all members on compatible Gyre versions?)", null);
            }
            byte kind = in.readByte();
            return switch (kind) {
                case COMMAND -> new CommandRequest(in.readLong(), in.readLong(), readString(in), in.readInt(),
                        in.readBoolean(), readString(in), readString(in), readString(in), readString(in));
                case REPLY -> readReply(in);
                case ADVERTISEMENT -> {
                    String memberId = readString(in);
                    int weight = in.readInt();
                    int count = in.readInt();
                    if (count < 0 || count > MAX_COMMAND_TYPES) {
                        throw new SerializationException("Advertisement with " + count + " command types", null);
                    }
                    Set<String> types = new LinkedHashSet<>();
                    for (int i = 0; i < count; i++) {
                        types.add(readString(in));
                    }
                    yield new Advertisement(memberId, weight, types);
                }
                case LEAVING -> new Leaving(readString(in));
                default -> throw new SerializationException("Unknown cluster message kind " + kind, null);
            };
        } catch (IOException e) {
            throw new SerializationException("Truncated or malformed cluster message: " + e, e);
        }
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
