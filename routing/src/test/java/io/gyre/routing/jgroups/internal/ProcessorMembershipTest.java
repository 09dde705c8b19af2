package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.processing.SegmentEpoch;
import io.gyre.routing.Member;
import io.gyre.routing.jgroups.internal.ProcessorMembership.Snapshot;
import io.gyre.routing.jgroups.internal.WireMessage.ProcessorsAdvertisement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

class ProcessorMembershipTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-30T07:00:00Z"), ZoneOffset.UTC);
    private static final long STARTED = SegmentEpoch.incarnationOf(CLOCK.instant());
    private static final Map<String, Integer> TALLY = Map.of("tally", 8);

    private final List<Address> addresses = addresses(4);
    private final ProcessorMembership membership = new ProcessorMembership(addresses.get(0), "a", 1, CLOCK);

    private static List<Address> addresses(int count) {
        List<Address> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            addresses.add(UUID.randomUUID());
        }
        return addresses;
    }

    private View view(long id, int members) {
        return View.create(addresses.get(0), id, addresses.subList(0, members).toArray(Address[]::new));
    }

    private ProcessorMembership.Applied advertise(int member, long version, Map<String, Integer> processors) {
        String id = String.valueOf((char) ('a' + member));
        return membership.onAdvertisement(addresses.get(member), 1,
                new ProcessorsAdvertisement(id, STARTED, version, processors));
    }

    private static List<String> runners(Snapshot snapshot) {
        return snapshot.runnersOf("tally", 8).stream().map(Member::id).toList();
    }

    @Test
    void the_runners_are_the_members_of_the_view_that_advertised_the_processor_with_the_same_segment_count() {
        membership.onView(view(1, 4));
        membership.setOwn(TALLY);
        advertise(1, 1, TALLY);
        advertise(2, 1, Map.of("tally", 16));
        Snapshot snapshot = Objects.requireNonNull(advertise(3, 1, Map.of("other", 8)).snapshot());

        assertThat(runners(snapshot)).containsExactly("a", "b");
        assertThat(snapshot.complete()).isTrue();
    }

    @Test
    void a_state_is_complete_only_once_every_member_of_the_view_advertised_its_processors() {
        Snapshot first = Objects.requireNonNull(membership.onView(view(1, 3)));
        assertThat(first.complete()).isFalse();
        advertise(1, 1, TALLY);
        membership.onLeaving(addresses.get(2));

        assertThat(Objects.requireNonNull(membership.current()).complete()).isTrue();
    }

    @Test
    void epochs_increase_with_every_change_and_a_newer_view_outranks_any_number_of_changes_in_an_older_one() {
        List<Long> epochs = new ArrayList<>();
        epochs.add(Objects.requireNonNull(membership.onView(view(5, 3))).epoch());
        epochs.add(Objects.requireNonNull(membership.setOwn(TALLY).snapshot()).epoch());
        for (long version = 1; version <= 30; version++) {
            epochs.add(Objects.requireNonNull(advertise(1, version, version % 2 == 0 ? TALLY : Map.of()).snapshot())
                    .epoch());
        }
        epochs.add(Objects.requireNonNull(membership.onLeaving(addresses.get(1))).epoch());
        epochs.add(Objects.requireNonNull(membership.onView(view(6, 2))).epoch());

        assertThat(epochs).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void a_newer_incarnation_heard_from_any_member_outranks_every_view_of_the_older_one_and_is_passed_on() {
        Snapshot oldRun = Objects.requireNonNull(membership.onView(view(4_000_000, 2)));
        // A member started a second later: the whole cluster's epochs move above the old run's, whatever the view.
        ProcessorMembership.Applied applied = membership.onAdvertisement(addresses.get(1), 1,
                new ProcessorsAdvertisement("b", STARTED + 1, 1, TALLY));

        assertThat(applied.raisedIncarnation()).isTrue();
        assertThat(Objects.requireNonNull(applied.snapshot()).epoch()).isGreaterThan(oldRun.epoch());
        assertThat(membership.setOwn(TALLY).advertisement().incarnation()).as("this member's own, passed on")
                .isEqualTo(STARTED + 1);
    }

    @Test
    void a_cluster_started_again_outranks_the_epochs_stored_by_its_previous_run() {
        ProcessorMembership before = new ProcessorMembership(addresses.get(0), "a", 1, CLOCK);
        long stored = Objects.requireNonNull(before.onView(View.create(addresses.get(0), 900,
                addresses.get(0)))).epoch();
        ProcessorMembership restarted = new ProcessorMembership(addresses.get(1), "a", 1,
                Clock.offset(CLOCK, Duration.ofSeconds(1)));

        long first = Objects.requireNonNull(restarted.onView(View.create(addresses.get(1), 1, addresses.get(1))))
                .epoch();

        assertThat(first).isGreaterThan(stored);
    }

    @Test
    void advertisements_that_cannot_be_believed_are_refused_with_the_reason() {
        membership.onView(view(1, 2));

        assertThat(advertise(1, 1, Map.of("bad name!", 8)).problem()).contains("processor name");
        assertThat(advertise(1, 1, Map.of("tally", 0)).problem()).contains("0 segments");
        assertThat(advertise(1, 1, Map.of("tally", 5000)).problem()).contains("5000 segments");
        assertThat(advertise(1, 0, TALLY).problem()).contains("version 0");
        assertThat(membership.onAdvertisement(addresses.get(1), 1, new ProcessorsAdvertisement("b",
                -1, 1, TALLY)).problem()).contains("incarnation -1");
        assertThat(advertise(1, 2, TALLY).problem()).isNull();
        assertThat(advertise(1, 1, TALLY).problem()).contains("older");
        // Not in the view: not believed, and nothing changes.
        ProcessorMembership.Applied stranger = membership.onAdvertisement(addresses.get(3), 1,
                new ProcessorsAdvertisement("d", STARTED, 1, TALLY));
        assertThat(stranger.snapshot()).isNull();
        assertThat(runners(Objects.requireNonNull(membership.current()))).containsExactly("b");
    }

    @Test
    void an_incarnation_far_ahead_of_this_members_clock_is_believed_so_that_the_members_still_agree() {
        membership.onView(view(1, 2));
        membership.setOwn(TALLY);
        long ahead = STARTED + 30 * 86_400;

        ProcessorMembership.Applied applied = membership.onAdvertisement(addresses.get(1), 1,
                new ProcessorsAdvertisement("b", ahead, 1, TALLY));

        assertThat(applied.problem()).isNull();
        assertThat(applied.raisedIncarnation()).isTrue();
        assertThat(runners(Objects.requireNonNull(applied.snapshot()))).containsExactly("a", "b");
        assertThat(SegmentEpoch.incarnationIn(applied.snapshot().epoch())).isEqualTo(ahead);
    }

    @Test
    void an_incarnation_learned_from_the_token_store_only_raises_and_is_passed_on() {
        Snapshot before = Objects.requireNonNull(membership.onView(view(7, 2)));
        membership.setOwn(TALLY);

        assertThat(membership.raiseIncarnation(STARTED).raisedIncarnation()).as("not above: nothing").isFalse();
        assertThat(membership.raiseIncarnation(STARTED - 5).snapshot()).isNull();
        ProcessorMembership.Applied raised = membership.raiseIncarnation(STARTED + 7_200);

        assertThat(raised.raisedIncarnation()).isTrue();
        assertThat(Objects.requireNonNull(raised.snapshot()).epoch()).isGreaterThan(before.epoch());
        assertThat(membership.incarnation()).isEqualTo(STARTED + 7_200);
        assertThat(Objects.requireNonNull(membership.ownAdvertisement()).incarnation()).isEqualTo(STARTED + 7_200);
        // An advertisement of the lower clock-based incarnation no longer lowers it.
        advertise(1, 1, TALLY);
        assertThat(membership.incarnation()).isEqualTo(STARTED + 7_200);
    }

    @Test
    void before_the_first_view_a_raise_is_kept_and_ranks_the_first_state() {
        ProcessorMembership fresh = new ProcessorMembership(addresses.get(0), "a", 1, CLOCK);
        ProcessorMembership.Applied raised = fresh.raiseIncarnation(STARTED + 10);

        assertThat(raised.raisedIncarnation()).isTrue();
        assertThat(raised.snapshot()).isNull();
        assertThat(SegmentEpoch.incarnationIn(Objects.requireNonNull(fresh.onView(view(1, 1))).epoch()))
                .isEqualTo(STARTED + 10);
    }

    @Test
    void a_departed_or_leaving_member_runs_nothing() {
        membership.onView(view(1, 3));
        membership.setOwn(TALLY);
        advertise(1, 1, TALLY);
        advertise(2, 1, TALLY);

        assertThat(runners(Objects.requireNonNull(membership.onLeaving(addresses.get(1))))).containsExactly("a", "c");
        assertThat(runners(Objects.requireNonNull(membership.onView(view(2, 2))))).containsExactly("a");
    }
}
