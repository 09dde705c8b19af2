package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import io.gyre.serialization.SerializationException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProcessorsAdvertisementWireTest {

    @Test
    void a_processors_advertisement_travels_whole_next_to_the_advertisement_it_follows() {
        ProcessorsAdvertisement processors = new ProcessorsAdvertisement("node-a", 59_000_000L, 3,
                Map.of("tally", 8, "balances", 32));
        Advertisement ad = new Advertisement("node-a", 1, Map.of("Ledger", Set.of("Post")));

        byte[] frame = WireFormat.encode(List.of(ad, processors));

        assertThat(WireFormat.decode(frame, 0, frame.length)).extracting(WireFormat.Decoded::message)
                .containsExactly(ad, processors);
    }

    @Test
    void a_count_of_processors_above_the_limit_is_refused_before_anything_is_allocated() {
        byte[] one = WireFormat.encode(new ProcessorsAdvertisement("x", 0, 1, Map.of()));
        // The count is the frame's last four bytes when there are no processors.
        ByteBuffer.wrap(one).putInt(one.length - 4, Integer.MAX_VALUE);

        assertThatThrownBy(() -> WireFormat.decodeOne(one)).isInstanceOf(SerializationException.class)
                .hasMessageContaining(String.valueOf(Integer.MAX_VALUE)).hasMessageContaining("at most 1000");
    }

    @Test
    void a_truncated_processors_advertisement_is_refused() {
        byte[] frame = WireFormat.encode(new ProcessorsAdvertisement("x", 0, 1, Map.of("tally", 8)));
        byte[] cut = java.util.Arrays.copyOf(frame, frame.length - 2);

        assertThatThrownBy(() -> WireFormat.decodeOne(cut)).isInstanceOf(SerializationException.class);
    }
}
