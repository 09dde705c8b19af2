package io.gyre.testing;

import static io.gyre.aggregate.AggregateLifecycle.apply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.AggregateLifecycle;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.command.TargetAggregateId;
import io.gyre.serialization.UnregisteredTypeException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AggregateFixtureTest {

    record OpenTicket(@TargetAggregateId String id, String title) {
    }

    record OpenSloppily(@TargetAggregateId String id, String title) {
    }

    record Rename(@TargetAggregateId String id, String title) {
    }

    record RenameSloppily(@TargetAggregateId String id, String title) {
    }

    record Close(@TargetAggregateId String id, String reason) {
    }

    record Escalate(@TargetAggregateId String id) {
    }

    record Leak(@TargetAggregateId String id) {
    }

    record Unhandled(@TargetAggregateId String id) {
    }

    record Opened(String id, String title) {
    }

    record Renamed(String id, String title) {
    }

    record Touched(String id) {
    }

    record Closed(String id, String reason) {
    }

    record Escalated(String id) {
    }

    record Notified(String id, String why) {
    }

    /** Has no {@code @EventSourcingHandler}, so it is not on the fixture's allow-list. */
    record Leaked(String id) {
    }

    @Aggregate
    static class Ticket {
        @AggregateId
        String id;
        String title;
        boolean closed;
        int renames;
        int notifications;
        final List<String> log = new ArrayList<>();

        Ticket() {
        }

        @CommandHandler
        Ticket(OpenTicket c) {
            apply(new Opened(c.id(), c.title()));
        }

        @CommandHandler
        Ticket(OpenSloppily c) {
            renames = 99;
            apply(new Opened(c.id(), c.title()));
        }

        @CommandHandler
        String handle(Rename c) {
            String previous = title;
            apply(new Renamed(id, c.title()));
            return previous;
        }

        @CommandHandler
        void handle(RenameSloppily c) {
            title = c.title();
            apply(new Touched(id));
        }

        @CommandHandler
        void handle(Close c) {
            if (closed) {
                throw new IllegalStateException("Ticket " + id + " is already closed");
            }
            apply(new Closed(id, c.reason()));
            if (c.reason().isBlank()) {
                throw new IllegalArgumentException("A ticket is closed with a reason");
            }
        }

        @CommandHandler
        void handle(Escalate c) {
            apply(new Escalated(id));
        }

        @CommandHandler
        void handle(Leak c) {
            apply(new Leaked(id));
        }

        @EventSourcingHandler
        void on(Opened e) {
            id = e.id();
            title = e.title();
        }

        @EventSourcingHandler
        void on(Renamed e) {
            title = e.title();
            renames++;
        }

        @EventSourcingHandler
        void on(Touched e) {
            log.add("touched");
        }

        @EventSourcingHandler
        void on(Closed e) {
            closed = true;
        }

        @EventSourcingHandler
        void on(Escalated e) {
            log.add("escalated:start");
            apply(new Notified(id, "escalated"));
            log.add("escalated:end");
        }

        @EventSourcingHandler
        void on(Notified e) {
            log.add("notified:" + e.why());
            notifications++;
        }
    }

    private final AggregateFixture<Ticket> fixture = AggregateFixture.of(Ticket.class);

    @Test
    void given_when_expect_events_passes_for_the_events_the_command_stores() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"))
                .when(new Rename("t-1", "final"))
                .expectEvents(new Renamed("t-1", "final"));

        assertThat(outcome.events()).containsExactly(new Renamed("t-1", "final"));
        assertThat(outcome.exception()).isNull();
    }

    @Test
    void creation_command_stores_its_events_and_returns_the_aggregate_id() {
        fixture.when(new OpenTicket("t-1", "draft"))
                .expectEvents(new Opened("t-1", "draft"))
                .expectResult("t-1")
                .expectState(ticket -> assertThat(ticket.title).isEqualTo("draft"));
    }

    @Test
    void expect_events_with_other_events_fails_listing_expected_and_stored() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft")).when(new Rename("t-1", "final"));

        assertThatThrownBy(() -> outcome.expectEvents(new Renamed("t-1", "other"), new Touched("t-1")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("Renamed[id=t-1, title=other]", "Touched[id=t-1]",
                        "Renamed[id=t-1, title=final]");
        assertThatThrownBy(outcome::expectNoEvents)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Renamed[id=t-1, title=final]");
    }

    @Test
    void expect_exception_passes_for_a_handler_exception_and_nothing_is_stored() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"), new Closed("t-1", "done"))
                .when(new Close("t-1", "again"))
                .expectException(IllegalStateException.class, "Ticket t-1 is already closed")
                .expectNoEvents();

        assertThat(outcome.events()).isEmpty();
        assertThatThrownBy(outcome::expectSuccess)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("already closed");
        assertThatThrownBy(() -> outcome.expectException(IllegalArgumentException.class))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll(IllegalArgumentException.class.getName(), "already closed");
    }

    @Test
    void events_applied_before_the_handler_throws_are_not_stored_and_do_not_change_the_state() {
        fixture.given(new Opened("t-1", "draft"))
                .when(new Close("t-1", " "))
                .expectException(IllegalArgumentException.class, "closed with a reason")
                .expectNoEvents()
                .expectState(ticket -> assertThat(ticket.closed).isFalse());
    }

    @Test
    void expect_exception_fails_when_the_command_succeeds() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft")).when(new Rename("t-1", "final"));

        assertThatThrownBy(() -> outcome.expectException(IllegalStateException.class))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll(IllegalStateException.class.getName(), "succeeded");
    }

    @Test
    void expect_state_sees_the_state_sourced_from_given_and_new_events() {
        fixture.given(new Opened("t-1", "draft"), new Renamed("t-1", "second"))
                .when(new Rename("t-1", "third"))
                .expectState(ticket -> {
                    assertThat(ticket.id).isEqualTo("t-1");
                    assertThat(ticket.title).isEqualTo("third");
                    assertThat(ticket.renames).isEqualTo(2);
                });
    }

    @Test
    void expect_result_compares_the_handler_return_value() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"))
                .when(new Rename("t-1", "final"))
                .expectResult("draft");

        assertThat(outcome.result()).isEqualTo("draft");
        assertThatThrownBy(() -> outcome.expectResult("final"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("final", "draft");
    }

    @Test
    void command_handler_changing_state_outside_an_event_sourcing_handler_fails_every_expectation() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"))
                .when(new RenameSloppily("t-1", "sneaky"));

        assertThatThrownBy(() -> outcome.expectEvents(new Touched("t-1")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("Illegal state change", "Ticket.title", "sneaky", "draft");
        assertThatThrownBy(() -> outcome.expectState(ticket -> { }))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("Illegal state change", "Ticket.title");
        assertThatThrownBy(outcome::expectSuccess)
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("Illegal state change", "Ticket.title");
    }

    @Test
    void creation_handler_changing_state_outside_an_event_sourcing_handler_is_reported() {
        Outcome<Ticket> outcome = fixture.when(new OpenSloppily("t-1", "draft"));

        assertThatThrownBy(() -> outcome.expectEvents(new Opened("t-1", "draft")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContainingAll("Illegal state change", "Ticket.renames", "99");
    }

    @Test
    void creation_command_on_an_existing_aggregate_is_refused_and_stores_nothing() {
        fixture.given(new Opened("t-1", "draft"))
                .when(new OpenTicket("t-1", "again"))
                .expectException(AggregateAlreadyExistsException.class, "'t-1'")
                .expectNoEvents()
                .expectState(ticket -> assertThat(ticket.title).isEqualTo("draft"));
    }

    @Test
    void command_on_an_aggregate_without_events_is_refused_with_aggregate_not_found() {
        fixture.when(new Rename("t-404", "x"))
                .expectException(AggregateNotFoundException.class, "'t-404'")
                .expectNoEvents();
    }

    @Test
    void command_with_a_null_target_id_is_refused_naming_the_command_and_member() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"))
                .when(new Rename(null, "x"))
                .expectException(MissingTargetAggregateIdException.class, Rename.class.getName());

        assertThat(outcome.exception()).hasMessageContaining("'id'");
    }

    @Test
    void command_type_without_a_handler_is_refused_naming_the_command() {
        fixture.given(new Opened("t-1", "draft"))
                .when(new Unhandled("t-1"))
                .expectException(NoHandlerForCommandException.class, Unhandled.class.getName());
    }

    @Test
    void event_of_an_unregistered_type_is_refused_and_nothing_is_stored() {
        fixture.given(new Opened("t-1", "draft"))
                .when(new Leak("t-1"))
                .expectException(UnregisteredTypeException.class, Leaked.class.getName())
                .expectNoEvents();
    }

    @Test
    void event_type_added_with_register_types_is_stored_and_the_original_fixture_still_refuses_it() {
        AggregateFixture<Ticket> opened = fixture.given(new Opened("t-1", "draft"));

        opened.registerTypes(Leaked.class).when(new Leak("t-1")).expectEvents(new Leaked("t-1"));
        opened.when(new Leak("t-1")).expectException(UnregisteredTypeException.class);
    }

    @Test
    void given_returns_a_new_fixture_and_leaves_the_original_unchanged() {
        AggregateFixture<Ticket> opened = fixture.given(new Opened("t-1", "draft"));
        AggregateFixture<Ticket> renamed = opened.given(new Renamed("t-1", "second"));

        assertThat(opened).isNotSameAs(fixture);
        assertThat(renamed).isNotSameAs(opened);
        fixture.when(new Rename("t-1", "x")).expectException(AggregateNotFoundException.class);
        opened.when(new Rename("t-1", "x")).expectResult("draft");
        renamed.when(new Rename("t-1", "x")).expectResult("second");
        opened.when(new Rename("t-1", "y")).expectResult("draft")
                .expectState(ticket -> assertThat(ticket.renames).isEqualTo(1));
        assertThat(renamed.givenNoPriorActivity().when(new OpenTicket("t-1", "fresh")).events())
                .containsExactly(new Opened("t-1", "fresh"));
    }

    @Test
    void apply_outside_a_command_handler_is_refused_naming_the_event() {
        assertThatThrownBy(() -> AggregateLifecycle.apply(new Renamed("t-1", "x")))
                .isExactlyInstanceOf(AggregateLifecycleException.class)
                .hasMessageContainingAll("Renamed", "outside a @CommandHandler");
    }

    @Test
    void event_applied_by_an_event_sourcing_handler_is_stored_after_the_triggering_event_and_ignored_when_sourcing() {
        Outcome<Ticket> outcome = fixture.given(new Opened("t-1", "draft"))
                .when(new Escalate("t-1"))
                .expectEvents(new Escalated("t-1"), new Notified("t-1", "escalated"))
                .expectState(ticket -> {
                    assertThat(ticket.log).containsExactly("escalated:start", "escalated:end", "notified:escalated");
                    assertThat(ticket.notifications).isEqualTo(1);
                });

        assertThat(outcome.events()).hasSize(2);
    }

    record OpenWrong(@TargetAggregateId String id) {
    }

    record Created(String id) {
    }

    @Aggregate
    static class WrongId {
        @AggregateId
        String id;

        WrongId() {
        }

        @CommandHandler
        WrongId(OpenWrong c) {
            apply(new Created(c.id() + "-other"));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void creation_handler_that_sets_another_id_than_the_command_target_is_refused_and_stores_nothing() {
        AggregateFixture.of(WrongId.class)
                .when(new OpenWrong("w-1"))
                .expectException(AggregateLifecycleException.class, "WrongId(OpenWrong)")
                .expectException(AggregateLifecycleException.class, "'id' as 'w-1-other'")
                .expectException(AggregateLifecycleException.class, "targets 'w-1'");
    }

    @Aggregate
    static class ForgetsId {
        @AggregateId
        String id;

        ForgetsId() {
        }

        @CommandHandler
        ForgetsId(OpenWrong c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            // forgets to set the id
        }
    }

    @Test
    void creation_handler_that_leaves_the_id_unset_is_refused_naming_the_field() {
        AggregateFixture.of(ForgetsId.class)
                .when(new OpenWrong("f-1"))
                .expectException(AggregateLifecycleException.class, "ForgetsId(OpenWrong)")
                .expectException(AggregateLifecycleException.class, "'id' unset");
    }

    @Aggregate
    static class Silent {
        @AggregateId
        String id;

        Silent() {
        }

        @CommandHandler
        Silent(OpenWrong c) {
            // decides nothing
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void creation_handler_applying_no_event_is_refused_naming_the_handler() {
        AggregateFixture.of(Silent.class)
                .when(new OpenWrong("s-1"))
                .expectException(AggregateLifecycleException.class, "Silent(OpenWrong)")
                .expectException(AggregateLifecycleException.class, "applied no event");
    }
}
