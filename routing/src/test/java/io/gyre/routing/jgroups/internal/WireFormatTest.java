package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.OutsideViewRefusal;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class WireFormatTest {

    private static CommandRequest command(long id, String payload) {
        return new CommandRequest(id, 7, "Ledger", "cmd-" + id, 2, true, 123_456_789L, "Post", "ledger-" + id,
                "{}", payload);
    }

    @Test
    void commands_and_replies_with_any_text_come_back_equal_and_in_order() {
        CommandRequest ascii = command(1, "{\"amount\":5}");
        CommandRequest accents = command(2, "{\"owner\":\"Zoë Ñandú — 東京 \uD83D\uDE00\"}");
        Reply reply = new Reply(3, new SerializedValue("Receipt", "{\"note\":\"né\"}"), null);
        Reply empty = new Reply(4, null, null);

        byte[] frame = WireFormat.encode(List.of(ascii, accents, reply, empty));

        assertThat(WireFormat.decode(frame, 0, frame.length)).extracting(WireFormat.Decoded::message)
                .containsExactly(ascii, accents, reply, empty);
    }

    @Test
    void a_frame_built_message_by_message_equals_the_one_encoded_at_once_and_the_builder_starts_over() {
        WireFormat.FrameBuilder builder = new WireFormat.FrameBuilder();
        int first = builder.append(command(1, "a"));
        int dropped = builder.append(command(2, "too large, say"));
        builder.removeLast(dropped);
        builder.append(command(3, "ü"));

        byte[] built = builder.finish();

        assertThat(built).isEqualTo(WireFormat.encode(List.of(command(1, "a"), command(3, "ü"))));
        assertThat(first).isEqualTo(WireFormat.body(command(1, "a")).length);
        assertThat(builder.messages()).isZero();
        builder.append(command(4, "b"));
        assertThat(builder.finish()).isEqualTo(WireFormat.encode(command(4, "b")));
    }

    @Test
    void a_frame_cut_anywhere_is_refused_as_malformed() {
        byte[] frame = WireFormat.encode(List.of(command(1, "{\"amount\":5}"), new Reply(2, null, null)));
        for (int length = 0; length < frame.length; length++) {
            byte[] cut = Arrays.copyOf(frame, length);
            assertThatThrownBy(() -> WireFormat.decode(cut, 0, cut.length)).as("cut at %d", length)
                    .isInstanceOf(SerializationException.class);
        }
    }

    @Test
    void a_frame_read_from_the_middle_of_a_larger_buffer_reads_only_its_own_bytes() {
        byte[] frame = WireFormat.encode(command(1, "x"));
        byte[] buffer = new byte[frame.length + 20];
        System.arraycopy(frame, 0, buffer, 10, frame.length);

        assertThat(WireFormat.decode(buffer, 10, frame.length)).extracting(WireFormat.Decoded::message)
                .containsExactly(command(1, "x"));
    }

    @Test
    void a_refusal_of_commands_from_outside_the_view_comes_back_equal() {
        OutsideViewRefusal refusal = new OutsideViewRefusal(7, 12, List.of(1L, Long.MAX_VALUE, -3L));

        byte[] frame = WireFormat.encode(refusal);

        assertThat(WireFormat.decodeOne(frame)).isEqualTo(refusal);
        assertThat(frame).hasSize(WireFormat.FRAME_OVERHEAD + 1 + 8 + 8 + 4 + 3 * 8);
    }

    @Test
    void a_notice_to_send_again_comes_back_equal_in_a_frame_of_its_own() {
        WireMessage.SendAgain notice = new WireMessage.SendAgain(42);

        byte[] frame = WireFormat.encode(notice);

        assertThat(WireFormat.decodeOne(frame)).isEqualTo(notice);
        assertThat(frame).hasSize(WireFormat.FRAME_OVERHEAD + 1 + 8);
    }

    @Test
    void the_refusal_of_a_frame_of_the_smallest_commands_is_smaller_than_that_frame() {
        for (int count : new int[] {1, 2, 500, OutsideViewRefusal.MAX_REQUEST_IDS, WireFormat.MAX_MESSAGES_PER_FRAME}) {
            List<CommandRequest> commands = LongStream.rangeClosed(1, count).mapToObj(id -> new CommandRequest(id,
                    0, "", "", 0, false, 0, "", "", "", "")).toList();
            byte[] received = WireFormat.encode(commands);
            assertThat(received.length).as("%d commands", count)
                    .isEqualTo(WireFormat.FRAME_OVERHEAD + count * WireFormat.MIN_COMMAND_BYTES);
            long refusalBytes = 0;
            for (int at = 0; at < count; at += OutsideViewRefusal.MAX_REQUEST_IDS) {
                List<Long> ids = LongStream.rangeClosed(at + 1, Math.min(count, at + OutsideViewRefusal
                        .MAX_REQUEST_IDS)).boxed().toList();
                refusalBytes += WireFormat.encode(new OutsideViewRefusal(Long.MAX_VALUE, Long.MAX_VALUE, ids)).length;
            }
            assertThat(refusalBytes).as("refusal of %d commands", count).isLessThan(received.length);
        }
    }

    @Test
    void a_refusal_claiming_more_ids_than_its_bytes_hold_is_refused_before_allocating() {
        byte[] frame = WireFormat.encode(new OutsideViewRefusal(1, 2, List.of(5L)));
        int countAt = WireFormat.FRAME_OVERHEAD + 1 + 8 + 8;
        for (int claimed : new int[] {0, 2, OutsideViewRefusal.MAX_REQUEST_IDS + 1, Integer.MAX_VALUE, -1}) {
            byte[] forged = frame.clone();
            forged[countAt] = (byte) (claimed >>> 24);
            forged[countAt + 1] = (byte) (claimed >>> 16);
            forged[countAt + 2] = (byte) (claimed >>> 8);
            forged[countAt + 3] = (byte) claimed;
            assertThatThrownBy(() -> WireFormat.decode(forged, 0, forged.length)).as("%d ids claimed", claimed)
                    .isInstanceOf(SerializationException.class);
        }
        assertThatThrownBy(() -> new OutsideViewRefusal(1, 2, List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
