package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.AdvertisementRequest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

class MemberOutboxNoticesTest {

    private static Advertisement ad(int weight) {
        return new Advertisement("node-a", weight, Map.of("Ledger", Set.of("Post")));
    }

    @Test
    void notices_queued_behind_a_blocked_write_keep_only_the_newest_of_each_kind_in_the_order_last_given()
            throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        BlockingQueue<List<WireMessage>> frames = new LinkedBlockingQueue<>();
        MemberOutbox outbox = new MemberOutbox(UUID.randomUUID(), "node-b", (to, frame) -> {
            frames.add(WireFormat.decode(frame, 0, frame.length).stream().map(WireFormat.Decoded::message).toList());
            unblock.await();
        }, 16, 1 << 20);
        try {
            outbox.offerNotices(List.of(ad(1)));
            assertThat(frames.poll(10, TimeUnit.SECONDS)).containsExactly(ad(1));

            // The member stopped reading: its thread waits in the write above, and ring changes go on meanwhile.
            for (int weight = 2; weight <= 50; weight++) {
                assertThat(outbox.offerNotices(List.of(ad(weight)))).isTrue();
            }
            outbox.offerNotices(List.of(new AdvertisementRequest("node-a")));
            outbox.offerNotices(List.of(ad(51)));
            assertThat(outbox.sendingReplies()).as("a leaving member waits for its notices").isTrue();

            unblock.countDown();
            assertThat(frames.poll(10, TimeUnit.SECONDS))
                    .containsExactly(new AdvertisementRequest("node-a"), ad(51));
        } finally {
            outbox.close();
        }
    }

    @Test
    void a_closed_outbox_takes_no_notice() {
        MemberOutbox outbox = new MemberOutbox(UUID.randomUUID(), "node-b", (to, frame) -> { }, 16, 1 << 20);
        outbox.close();
        assertThat(outbox.offerNotices(List.of(ad(1)))).isFalse();
    }
}
