package io.gyre.aggregate;

import static io.gyre.aggregate.AggregateLifecycle.apply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.aggregate.internal.AggregateModel;
import io.gyre.command.CommandHandler;
import io.gyre.command.CommandMessage;
import io.gyre.command.TargetAggregateId;
import io.gyre.command.internal.TargetIdAccessor;
import io.gyre.testing.AggregateFixture;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@link Aggregate} are checked when a class is registered, through {@link AggregateModel#of} and
 * through {@link Gyre.Builder#aggregate}, with a message naming the class and the member at fault.
 */
class AggregateDefinitionTest {

    record Create(@TargetAggregateId String id) {
    }

    record Rename(@TargetAggregateId String id, String name) {
    }

    record Created(String id) {
    }

    record Renamed(String id, String name) {
    }

    /** Asserts both registration routes refuse the class, naming it and every fragment. */
    private static void assertRefused(Class<?> aggregate, String... fragments) {
        assertThatThrownBy(() -> AggregateModel.of(aggregate))
                .as("AggregateModel.of(%s)", aggregate.getSimpleName())
                .isExactlyInstanceOf(AggregateDefinitionException.class)
                .hasMessageContaining(aggregate.getName())
                .hasMessageContainingAll(fragments);
        assertThatThrownBy(() -> Gyre.builder().aggregate(aggregate))
                .as("Gyre.builder().aggregate(%s)", aggregate.getSimpleName())
                .isExactlyInstanceOf(AggregateDefinitionException.class)
                .hasMessageContaining(aggregate.getName())
                .hasMessageContainingAll(fragments);
    }


    static class NotAnnotated {
        @AggregateId
        String id;

        NotAnnotated() {
        }

        @CommandHandler
        NotAnnotated(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void aggregate_without_aggregate_annotation_is_refused_naming_the_class() {
        assertRefused(NotAnnotated.class, "not annotated @Aggregate");
    }

    @Aggregate
    static class NoId {
        String id;

        NoId() {
        }

        @CommandHandler
        NoId(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void aggregate_without_aggregate_id_is_refused_naming_the_class() {
        assertRefused(NoId.class, "no @AggregateId field");
    }

    @Aggregate
    static class TwoIds {
        @AggregateId
        String id;
        @AggregateId
        String otherId;

        TwoIds() {
        }

        @CommandHandler
        TwoIds(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
            otherId = e.id();
        }
    }

    @Test
    void aggregate_with_two_aggregate_ids_is_refused_naming_both_fields() {
        assertRefused(TwoIds.class, "more than one @AggregateId", "id", "otherId");
    }

    @Aggregate
    static class NoNoArgConstructor {
        @AggregateId
        String id;

        @CommandHandler
        NoNoArgConstructor(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void aggregate_without_no_arg_constructor_is_refused_naming_the_class() {
        assertRefused(NoNoArgConstructor.class, "no no-argument constructor");
    }

    @Aggregate
    static class TwoHandlersForOneCommand {
        @AggregateId
        String id;

        TwoHandlersForOneCommand() {
        }

        @CommandHandler
        TwoHandlersForOneCommand(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        void rename(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }

        @CommandHandler
        void renameAgain(Rename c, Metadata metadata) {
            apply(new Renamed(c.id(), c.name()), metadata);
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void two_command_handlers_for_one_command_type_are_refused_naming_both() {
        assertRefused(TwoHandlersForOneCommand.class, "two @CommandHandler members", Rename.class.getName(),
                "TwoHandlersForOneCommand.rename(Rename)",
                "TwoHandlersForOneCommand.renameAgain(Rename, Metadata)");
    }

    @Aggregate
    static class FirstRenamer {
        @AggregateId
        String id;

        FirstRenamer() {
        }

        @CommandHandler
        void handle(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }
    }

    @Aggregate
    static class SecondRenamer {
        @AggregateId
        String id;

        SecondRenamer() {
        }

        @CommandHandler
        void handle(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }
    }

    @Test
    void command_type_handled_by_two_aggregates_is_refused_naming_both_aggregates() {
        assertThatCode(() -> AggregateModel.of(FirstRenamer.class)).doesNotThrowAnyException();
        assertThatCode(() -> AggregateModel.of(SecondRenamer.class)).doesNotThrowAnyException();

        Gyre.Builder builder = Gyre.builder().aggregate(FirstRenamer.class);
        assertThatThrownBy(() -> builder.aggregate(SecondRenamer.class))
                .isExactlyInstanceOf(AggregateDefinitionException.class)
                .hasMessageContainingAll(Rename.class.getName(), "two aggregates",
                        FirstRenamer.class.getName(), "FirstRenamer.handle(Rename)",
                        SecondRenamer.class.getName(), "SecondRenamer.handle(Rename)");
    }

    @Aggregate
    static class HandlerWithoutParameters {
        @AggregateId
        String id;

        HandlerWithoutParameters() {
        }

        @CommandHandler
        HandlerWithoutParameters(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        void poke() {
        }
    }

    @Test
    void command_handler_without_parameters_is_refused_naming_it() {
        assertRefused(HandlerWithoutParameters.class, "@CommandHandler HandlerWithoutParameters.poke()",
                "0 parameters");
    }

    @Aggregate
    static class UnsupportedSecondParameter {
        @AggregateId
        String id;

        UnsupportedSecondParameter() {
        }

        @CommandHandler
        UnsupportedSecondParameter(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        void handle(Rename c, String extra) {
            apply(new Renamed(c.id(), c.name() + extra));
        }
    }

    @Test
    void command_handler_with_unsupported_second_parameter_is_refused_naming_it_and_the_type() {
        assertRefused(UnsupportedSecondParameter.class, "UnsupportedSecondParameter.handle(Rename, String)",
                "second parameter of type java.lang.String");
    }

    @Aggregate
    static class StaticHandler {
        @AggregateId
        String id;

        StaticHandler() {
        }

        @CommandHandler
        StaticHandler(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        static void handle(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }
    }

    @Test
    void static_command_handler_is_refused_naming_it() {
        assertRefused(StaticHandler.class, "StaticHandler.handle(Rename)", "must not be static");
    }

    @Aggregate
    static class EventHandlerReturningValue {
        @AggregateId
        String id;

        EventHandlerReturningValue() {
        }

        @CommandHandler
        EventHandlerReturningValue(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        String on(Created e) {
            id = e.id();
            return id;
        }
    }

    @Test
    void event_sourcing_handler_returning_a_value_is_refused_naming_it() {
        assertRefused(EventHandlerReturningValue.class, "@EventSourcingHandler EventHandlerReturningValue.on(Created)",
                "must return void");
    }

    @Aggregate
    static class TwoEventHandlersForOneEvent {
        @AggregateId
        String id;

        TwoEventHandlersForOneEvent() {
        }

        @CommandHandler
        TwoEventHandlersForOneEvent(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void onAgain(Created e, Metadata metadata) {
            id = e.id();
        }
    }

    @Test
    void two_event_sourcing_handlers_for_one_event_type_are_refused_naming_both() {
        assertRefused(TwoEventHandlersForOneEvent.class, "two @EventSourcingHandler methods",
                Created.class.getName(), "TwoEventHandlersForOneEvent.on(Created)",
                "TwoEventHandlersForOneEvent.onAgain(Created, Metadata)");
    }

    record Untargeted(String id) {
    }

    @Aggregate
    static class UntargetedCommand {
        @AggregateId
        String id;

        UntargetedCommand() {
        }

        @CommandHandler
        UntargetedCommand(Untargeted c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void command_type_without_target_aggregate_id_is_refused_naming_the_command_and_handler() {
        assertRefused(UntargetedCommand.class, "UntargetedCommand(Untargeted)", Untargeted.class.getName(),
                "no @TargetAggregateId member");
    }

    record DoublyTargeted(@TargetAggregateId String id, @TargetAggregateId String otherId) {
    }

    @Aggregate
    static class DoublyTargetedCommand {
        @AggregateId
        String id;

        DoublyTargetedCommand() {
        }

        @CommandHandler
        DoublyTargetedCommand(DoublyTargeted c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void command_type_with_two_target_aggregate_ids_is_refused_naming_both_members() {
        assertRefused(DoublyTargetedCommand.class, "DoublyTargetedCommand(DoublyTargeted)",
                DoublyTargeted.class.getName(), "more than one @TargetAggregateId", "id", "otherId");
    }

    @Aggregate
    abstract static class AbstractAggregate {
        @AggregateId
        String id;

        AbstractAggregate() {
        }

        @CommandHandler
        void handle(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }
    }

    @Test
    void abstract_aggregate_class_is_refused_naming_the_class() {
        assertRefused(AbstractAggregate.class, "must be a concrete class");
    }

    @Aggregate
    class InnerAggregate {
        @AggregateId
        String id;

        InnerAggregate() {
        }

        @CommandHandler
        void handle(Rename c) {
            apply(new Renamed(c.id(), c.name()));
        }
    }

    @Test
    void non_static_inner_aggregate_class_is_refused_naming_the_class() {
        assertRefused(InnerAggregate.class, "is an inner class");
    }

    @Aggregate
    static class NoCommandHandlers {
        @AggregateId
        String id;

        NoCommandHandlers() {
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }
    }

    @Test
    void aggregate_without_command_handlers_is_refused_naming_the_class() {
        assertRefused(NoCommandHandlers.class, "no @CommandHandler constructor or method");
    }


    @Aggregate
    static class Secluded {
        @AggregateId
        private String id;
        private String name = "";

        private Secluded() {
        }

        @CommandHandler
        private Secluded(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        String rename(Rename c) {
            apply(new Renamed(c.id(), c.name()));
            return name;
        }

        @EventSourcingHandler
        private void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void on(Renamed e) {
            name = e.name();
        }
    }

    @Test
    void private_no_arg_constructor_and_private_or_package_private_handlers_work() {
        assertThatCode(() -> Gyre.builder().aggregate(Secluded.class)).doesNotThrowAnyException();

        AggregateFixture.of(Secluded.class)
                .when(new Create("s-1"))
                .expectEvents(new Created("s-1"))
                .expectResult("s-1");
        AggregateFixture.of(Secluded.class)
                .given(new Created("s-1"))
                .when(new Rename("s-1", "quiet"))
                .expectEvents(new Renamed("s-1", "quiet"))
                .expectResult("quiet")
                .expectState(s -> assertThat(s.name).isEqualTo("quiet"));
    }

    record Stamp(@TargetAggregateId String id, String mark) {
    }

    record Stamped(String id, String mark) {
    }

    abstract static class Base {
        @AggregateId
        String id;
        final List<String> marks = new ArrayList<>();

        @CommandHandler
        void handle(Rename c) {
            apply(new Renamed(c.id(), "base:" + c.name()));
        }

        @CommandHandler
        void handle(Stamp c) {
            apply(new Stamped(c.id(), "base:" + c.mark()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void on(Renamed e) {
            marks.add(e.name());
        }

        @EventSourcingHandler
        void on(Stamped e) {
            marks.add(e.mark());
        }
    }

    @Aggregate
    static class Derived extends Base {
        Derived() {
        }

        @CommandHandler
        Derived(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        @Override
        void handle(Stamp c) {
            apply(new Stamped(c.id(), "derived:" + c.mark()));
        }
    }

    @Test
    void handlers_inherited_from_an_abstract_superclass_work() {
        AggregateModel<Derived> model = AggregateModel.of(Derived.class);

        assertThat(model.commandHandlers()).containsOnlyKeys(Create.class, Rename.class, Stamp.class);
        assertThat(model.commandHandler(Rename.class)).hasToString("Base.handle(Rename)");
        assertThat(model.idFieldName()).isEqualTo("id");
        AggregateFixture.of(Derived.class)
                .given(new Created("d-1"))
                .when(new Rename("d-1", "x"))
                .expectEvents(new Renamed("d-1", "base:x"))
                .expectState(d -> assertThat(d.marks).containsExactly("base:x"));
    }

    @Test
    void overriding_subclass_handler_replaces_the_superclass_one_instead_of_being_a_duplicate() {
        assertThatCode(() -> Gyre.builder().aggregate(Derived.class)).doesNotThrowAnyException();
        AggregateModel<Derived> model = AggregateModel.of(Derived.class);

        assertThat(model.commandHandler(Stamp.class)).hasToString("Derived.handle(Stamp)");
        AggregateFixture.of(Derived.class)
                .given(new Created("d-1"))
                .when(new Stamp("d-1", "y"))
                .expectEvents(new Stamped("d-1", "derived:y"));
    }

    @Aggregate
    static class DerivedWithoutAnnotation extends Base {
        DerivedWithoutAnnotation() {
        }

        @CommandHandler
        DerivedWithoutAnnotation(Create c) {
            apply(new Created(c.id()));
        }

        @Override
        void handle(Stamp c) {
            apply(new Stamped(c.id(), "unannotated override:" + c.mark()));
        }
    }

    @Test
    void an_override_without_the_annotation_keeps_the_inherited_handler_and_runs_the_override() {
        AggregateModel<DerivedWithoutAnnotation> model = AggregateModel.of(DerivedWithoutAnnotation.class);

        assertThat(model.commandHandlers()).containsOnlyKeys(Create.class, Rename.class, Stamp.class);
        AggregateFixture.of(DerivedWithoutAnnotation.class)
                .given(new Created("d-1"))
                .when(new Stamp("d-1", "z"))
                .expectEvents(new Stamped("d-1", "unannotated override:z"));
    }

    record ByComponent(@TargetAggregateId String id, String name) {
    }

    static final class ByField {
        @TargetAggregateId
        final String id;
        final String name;

        ByField(String id, String name) {
            this.id = id;
            this.name = name;
        }
    }

    static final class ByGetter {
        private final String key;
        final String name;

        ByGetter(String key, String name) {
            this.key = key;
            this.name = name;
        }

        @TargetAggregateId
        String target() {
            return key;
        }
    }

    @Aggregate
    static class Targets {
        @AggregateId
        String id;
        String name;

        Targets() {
        }

        @CommandHandler
        Targets(Create c) {
            apply(new Created(c.id()));
        }

        @CommandHandler
        void handle(ByComponent c) {
            apply(new Renamed(c.id(), c.name()));
        }

        @CommandHandler
        void handle(ByField c) {
            apply(new Renamed(c.id, c.name));
        }

        @CommandHandler
        void handle(ByGetter c) {
            apply(new Renamed(c.target(), c.name));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void on(Renamed e) {
            name = e.name();
        }
    }

    @Test
    void target_aggregate_id_on_a_record_component_a_field_or_a_getter_routes_the_command() {
        assertThatCode(() -> Gyre.builder().aggregate(Targets.class)).doesNotThrowAnyException();
        for (Class<?> commandType : List.of(ByComponent.class, ByField.class, ByGetter.class)) {
            assertThat(TargetIdAccessor.of(commandType).problem()).as(commandType.getSimpleName()).isNull();
        }
        assertThat(CommandMessage.of(new ByComponent("t-1", "a")).routingKey()).isEqualTo("t-1");
        assertThat(CommandMessage.of(new ByField("t-2", "b")).routingKey()).isEqualTo("t-2");
        assertThat(CommandMessage.of(new ByGetter("t-3", "c")).routingKey()).isEqualTo("t-3");

        AggregateFixture<Targets> created = AggregateFixture.of(Targets.class).given(new Created("t-1"));
        created.when(new ByComponent("t-1", "a")).expectEvents(new Renamed("t-1", "a"));
        created.when(new ByField("t-1", "b")).expectEvents(new Renamed("t-1", "b"));
        created.when(new ByGetter("t-1", "c")).expectEvents(new Renamed("t-1", "c"));
    }

    sealed interface Shape permits Circle, Polygon {
    }

    record Circle(String id, int radius) implements Shape {
    }

    sealed interface Polygon extends Shape permits Square, Triangle {
    }

    record Square(String id, int side) implements Polygon {
    }

    record Triangle(String id, int base) implements Polygon {
    }

    @Aggregate
    static class Drawing {
        @AggregateId
        String id;
        final List<String> handled = new ArrayList<>();

        Drawing() {
        }

        @CommandHandler
        Drawing(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void on(Shape e) {
            handled.add("shape:" + e.getClass().getSimpleName());
        }

        @EventSourcingHandler
        void on(Square e) {
            handled.add("square");
        }
    }

    @Test
    void sealed_event_parameter_registers_its_permitted_subclasses_recursively() {
        AggregateModel<Drawing> model = AggregateModel.of(Drawing.class);

        assertThat(model.eventTypes())
                .containsExactlyInAnyOrder(Created.class, Circle.class, Square.class, Triangle.class)
                .doesNotContain(Shape.class, Polygon.class);
    }

    @Test
    void most_specific_event_sourcing_handler_is_chosen() {
        AggregateModel<Drawing> model = AggregateModel.of(Drawing.class);
        Drawing drawing = model.newInstance();

        model.applyEvent(drawing, new Square("d-1", 2), Metadata.empty());
        model.applyEvent(drawing, new Circle("d-1", 3), Metadata.empty());
        model.applyEvent(drawing, new Triangle("d-1", 4), Metadata.empty());

        assertThat(drawing.handled).containsExactly("square", "shape:Circle", "shape:Triangle");
    }

    interface Audited {
    }

    interface Billed {
    }

    record Charged(String id) implements Audited, Billed {
    }

    @Aggregate
    static class Ambiguous {
        @AggregateId
        String id;
        int audits;
        int bills;

        Ambiguous() {
        }

        @CommandHandler
        Ambiguous(Create c) {
            apply(new Created(c.id()));
        }

        @EventSourcingHandler
        void on(Created e) {
            id = e.id();
        }

        @EventSourcingHandler
        void on(Audited e) {
            audits++;
        }

        @EventSourcingHandler
        void on(Billed e) {
            bills++;
        }
    }

    @Test
    void event_matching_two_unrelated_handlers_is_refused_naming_both() {
        AggregateModel<Ambiguous> model = AggregateModel.of(Ambiguous.class);

        assertThatThrownBy(() -> model.applyEvent(model.newInstance(), new Charged("a-1"), Metadata.empty()))
                .isExactlyInstanceOf(AggregateDefinitionException.class)
                .hasMessageContainingAll(Charged.class.getName(), Ambiguous.class.getName(),
                        "Ambiguous.on(Audited)", "Ambiguous.on(Billed)");
    }

    record Tag(@TargetAggregateId String id, String label) {
    }

    record Tagged(String id, String label) {
    }

    @Aggregate
    static class MetadataAware {
        @AggregateId
        String id;
        Metadata commandMetadata = Metadata.empty();
        Metadata createdMetadata = Metadata.empty();
        Metadata taggedMetadata = Metadata.empty();

        MetadataAware() {
        }

        @CommandHandler
        MetadataAware(Create c, Metadata metadata) {
            apply(new Created(c.id()), metadata.with("step", "create"));
        }

        @CommandHandler
        void handle(Tag c, Metadata metadata) {
            apply(new Tagged(c.id(), c.label() + "@" + metadata.get("user")), metadata.with("step", "tag"));
        }

        @EventSourcingHandler
        void on(Created e, Metadata metadata) {
            id = e.id();
            createdMetadata = metadata;
        }

        @EventSourcingHandler
        void on(Tagged e, Metadata metadata) {
            taggedMetadata = metadata;
        }
    }

    @Test
    void metadata_second_parameter_of_command_and_event_handlers_receives_the_metadata() {
        AggregateFixture.of(MetadataAware.class)
                .when(new Create("m-1"), Metadata.of("user", "ann"))
                .expectEvents(new Created("m-1"))
                .expectState(m -> assertThat(m.createdMetadata)
                        .isEqualTo(Metadata.of("user", "ann").with("step", "create")));

        AggregateFixture.of(MetadataAware.class)
                .given(new Created("m-1"))
                .when(new Tag("m-1", "vip"), Metadata.of("user", "bob"))
                .expectEvents(new Tagged("m-1", "vip@bob"))
                .expectState(m -> {
                    assertThat(m.taggedMetadata).isEqualTo(Metadata.of("user", "bob").with("step", "tag"));
                    assertThat(m.createdMetadata).isEqualTo(Metadata.empty());
                });
    }
}
