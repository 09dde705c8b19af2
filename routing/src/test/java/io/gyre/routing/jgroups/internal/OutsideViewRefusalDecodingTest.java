package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.routing.jgroups.internal.WireMessage.OutsideViewRefusal;
import io.gyre.serialization.SerializationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Review: a refusal (wire kind 7) comes from any member of the view, so a forged or damaged one must only ever be
 * read as a refusal or refused as malformed (a {@link SerializationException}, which the receive path catches), and
 * never allocate for more ids than its bytes hold.
 */
class OutsideViewRefusalDecodingTest {

    private static final byte[] VALID = WireFormat.encode(List.of(
            new OutsideViewRefusal(3, 9, LongStream.rangeClosed(1, 40).boxed().toList()),
            new OutsideViewRefusal(Long.MIN_VALUE, -1, List.of(Long.MAX_VALUE))));

    @Test
    void every_truncation_of_a_refusal_frame_is_refused_as_malformed() {
        for (int length = 0; length < VALID.length; length++) {
            assertThat(outcome(VALID, length)).as("the first %d of %d bytes", length, VALID.length)
                    .isIn("malformed");
        }
        assertThat(outcome(VALID, VALID.length)).isEqualTo("read");
    }

    @Test
    void random_damage_to_a_refusal_frame_never_throws_anything_but_a_malformed_message() {
        Random random = new Random(42);
        for (int round = 0; round < 20_000; round++) {
            byte[] damaged = VALID.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
            }
            assertThat(outcome(damaged, damaged.length)).as("round %d", round).isIn("read", "malformed");
        }
    }

    @Test
    void duplicate_ids_are_read_as_sent_and_the_receiver_takes_each_pending_request_once() {
        OutsideViewRefusal refusal = new OutsideViewRefusal(1, 2, List.of(5L, 5L, 5L));

        assertThat(WireFormat.decodeOne(WireFormat.encode(refusal))).isEqualTo(refusal);
    }

    @Test
    void a_frame_of_the_most_refusals_allocates_no_more_ids_than_its_bytes_hold() {
        List<OutsideViewRefusal> many = new ArrayList<>();
        for (int i = 0; i < WireFormat.MAX_MESSAGES_PER_FRAME; i++) {
            many.add(new OutsideViewRefusal(1, 1, List.of((long) i)));
        }
        byte[] frame = WireFormat.encode(many);

        List<WireFormat.Decoded> decoded = WireFormat.decode(frame, 0, frame.length);

        assertThat(decoded).hasSize(WireFormat.MAX_MESSAGES_PER_FRAME);
        long ids = decoded.stream().mapToLong(d -> ((OutsideViewRefusal) d.message()).requestIds().size()).sum();
        assertThat(ids * 8).isLessThanOrEqualTo(frame.length);
    }

    private static String outcome(byte[] frame, int length) {
        try {
            WireFormat.decode(frame, 0, length);
            return "read";
        } catch (SerializationException e) {
            return "malformed";
        } catch (RuntimeException e) {
            return "threw " + e;
        }
    }
}
