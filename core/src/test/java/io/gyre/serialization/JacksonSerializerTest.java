package io.gyre.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.gyre.Metadata;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JacksonSerializerTest {

    record Line(String sku, int quantity) {
    }

    record Address(String street, String city) {
    }

    record OrderPlaced(String orderId, Instant at, Optional<String> coupon, Address shipTo, List<Line> lines) {
    }

    @TypeName("shop.order-cancelled.v1")
    record OrderCancelled(String orderId, String reason) {
    }

    record Unregistered(String id) {
    }

    /** Version 2 of an event stored as version 1 {@code {"orderId", "note"}}: one field dropped, two added. */
    @TypeName("shop.note")
    record NoteV2(String orderId, String author, int priority) {
    }

    /** Counts instantiations, to prove refused JSON never constructs it. */
    static final class Gadget {
        static final AtomicInteger CREATED = new AtomicInteger();
        public String command = "";

        Gadget() {
            CREATED.incrementAndGet();
        }
    }

    static final class Allowed {
        public String value = "";
    }

    record Envelope(String id, @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Object body) {
    }

    @TypeName("shared-name")
    record First(String id) {
    }

    @TypeName("shared-name")
    record Second(String id) {
    }

    abstract static class AbstractEvent {
    }

    interface EventInterface {
    }

    private static JacksonSerializer serializerFor(Class<?>... types) {
        TypeRegistry.Builder builder = TypeRegistry.builder();
        for (Class<?> type : types) {
            builder.register(type);
        }
        return new JacksonSerializer(builder.build());
    }

    @Test
    void records_with_instants_optionals_nested_records_and_lists_round_trip() {
        JacksonSerializer serializer = serializerFor(OrderPlaced.class);
        OrderPlaced withCoupon = new OrderPlaced("o-1", Instant.parse("2024-02-29T12:34:56.789123Z"),
                Optional.of("SPRING"), new Address("Main St 1", "Ghent"),
                List.of(new Line("apple", 3), new Line("pear", 1)));
        OrderPlaced withoutCoupon = new OrderPlaced("o-2", Instant.EPOCH, Optional.empty(),
                new Address("Side St 2", "Bruges"), List.of());

        SerializedValue stored = serializer.serialize(withCoupon);

        assertThat(stored.data()).contains("\"2024-02-29T12:34:56.789123Z\"");
        assertThat(serializer.deserialize(stored)).isEqualTo(withCoupon);
        assertThat(serializer.deserialize(serializer.serialize(withoutCoupon))).isEqualTo(withoutCoupon);
    }

    @Test
    void type_name_defaults_to_the_class_name_without_package_and_type_name_annotation_overrides_it() {
        JacksonSerializer serializer = serializerFor(OrderPlaced.class, OrderCancelled.class, String.class);

        assertThat(TypeRegistry.defaultNameOf(String.class)).isEqualTo("String");
        assertThat(TypeRegistry.defaultNameOf(OrderPlaced.class)).isEqualTo("JacksonSerializerTest$OrderPlaced");
        assertThat(serializer.serialize(new OrderCancelled("o-1", "late")).type())
                .isEqualTo("shop.order-cancelled.v1");
        assertThat(serializer.types().classOf("JacksonSerializerTest$OrderPlaced")).isEqualTo(OrderPlaced.class);
        assertThat(serializer.types().classOf("shop.order-cancelled.v1")).isEqualTo(OrderCancelled.class);
        assertThat(serializer.deserialize(new SerializedValue("shop.order-cancelled.v1",
                "{\"orderId\":\"o-1\",\"reason\":\"late\"}"))).isEqualTo(new OrderCancelled("o-1", "late"));
    }

    @Test
    void serializing_an_unregistered_class_is_refused_naming_the_class() {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);

        assertThatThrownBy(() -> serializer.serialize(new Unregistered("u-1")))
                .isExactlyInstanceOf(UnregisteredTypeException.class)
                .hasMessageContaining(Unregistered.class.getName());
    }

    @Test
    void deserializing_an_unknown_type_name_is_refused_naming_the_name() {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);

        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("shop.refund-issued", "{}")))
                .isExactlyInstanceOf(UnregisteredTypeException.class)
                .hasMessageContaining("'shop.refund-issued'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"orderId\":", "not json", "[1, 2]", "{\"orderId\":{\"nested\":true}}", "null"})
    void malformed_json_is_refused_with_serialization_exception_naming_the_type(String json) {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);

        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("shop.order-cancelled.v1", json)))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("'shop.order-cancelled.v1'");
    }

    @Test
    void unknown_json_properties_are_ignored_and_missing_ones_take_their_default() {
        JacksonSerializer serializer = serializerFor(NoteV2.class);

        Object read = serializer.deserialize(new SerializedValue("shop.note",
                "{\"orderId\":\"o-1\",\"note\":\"fragile\"}"));

        assertThat(read).isEqualTo(new NoteV2("o-1", null, 0));
    }

    @Test
    void class_named_inside_json_that_is_not_registered_is_refused_and_never_instantiated() {
        JacksonSerializer serializer = serializerFor(Envelope.class, Allowed.class);
        Gadget.CREATED.set(0);

        for (String className : List.of(Gadget.class.getName(), "java.util.HashMap",
                "java.util.ArrayList<" + Gadget.class.getName() + ">")) {
            String json = "{\"id\":\"e-1\",\"body\":{\"@class\":\"" + className + "\",\"command\":\"x\"}}";
            assertThatThrownBy(() -> serializer.deserialize(
                    new SerializedValue("JacksonSerializerTest$Envelope", json)))
                    .as(className)
                    .isExactlyInstanceOf(SerializationException.class)
                    .hasMessageContaining("'JacksonSerializerTest$Envelope'")
                    .hasMessageContaining(className)
                    .hasMessageContaining("denied");
        }
        assertThat(Gadget.CREATED).hasValue(0);
    }

    @Test
    void class_named_inside_json_that_is_registered_is_accepted() {
        JacksonSerializer serializer = serializerFor(Envelope.class, Allowed.class);
        Allowed body = new Allowed();
        body.value = "ok";

        SerializedValue stored = serializer.serialize(new Envelope("e-1", body));
        Object read = serializer.deserialize(stored);

        assertThat(stored.data()).contains(Allowed.class.getName());
        assertThat(read).isInstanceOfSatisfying(Envelope.class, envelope ->
                assertThat(envelope.body()).isInstanceOfSatisfying(Allowed.class,
                        allowed -> assertThat(allowed.value).isEqualTo("ok")));
    }

    @Test
    void storing_a_value_that_names_an_unregistered_class_inside_is_refused() {
        JacksonSerializer serializer = serializerFor(Envelope.class, Allowed.class);
        Envelope poison = new Envelope("e-1", new Gadget());

        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("JacksonSerializerTest$Envelope",
                "{\"id\":\"e-1\",\"body\":{\"@class\":\"" + Gadget.class.getName() + "\"}}")))
                .isExactlyInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> serializer.serializeForStorage(poison))
                .isInstanceOfAny(UnregisteredTypeException.class, SerializationException.class)
                .hasMessageContaining(Gadget.class.getName());
    }

    @Test
    void json_with_trailing_content_is_refused() {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);

        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("shop.order-cancelled.v1",
                "{\"orderId\":\"o-1\",\"reason\":\"late\"} {\"orderId\":\"o-2\"}")))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("'shop.order-cancelled.v1'");
        assertThatThrownBy(() -> serializer.deserializeMetadata("{\"user\":\"ann\"} {\"user\":\"bob\"}"))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("Metadata");
    }

    @Test
    void registry_refuses_two_classes_under_one_name_suggesting_type_name() {
        TypeRegistry.Builder builder = TypeRegistry.builder().register(First.class);

        assertThatThrownBy(() -> builder.register(Second.class))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'shared-name'", First.class.getName(), Second.class.getName(),
                        "@TypeName");
    }

    @Test
    void registry_refuses_one_class_under_two_names_naming_both() {
        TypeRegistry.Builder builder = TypeRegistry.builder().register(OrderCancelled.class, "cancelled");

        assertThatCode(() -> builder.register(OrderCancelled.class, "cancelled")).doesNotThrowAnyException();
        assertThatThrownBy(() -> builder.register(OrderCancelled.class, "order-cancelled"))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll(OrderCancelled.class.getName(), "'cancelled'", "'order-cancelled'");
    }

    @Test
    void registry_refuses_abstract_classes_interfaces_and_arrays_naming_them() {
        for (Class<?> type : List.of(AbstractEvent.class, EventInterface.class, String[].class)) {
            assertThatThrownBy(() -> TypeRegistry.builder().register(type))
                    .as(type.getName())
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContainingAll(type.getName(), "only concrete classes");
        }
    }

    @Test
    void registry_refuses_primitives_naming_them() {
        for (Class<?> type : List.of(int.class, void.class)) {
            assertThatThrownBy(() -> TypeRegistry.builder().register(type))
                    .as(type.getName())
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContainingAll(type.getName(), "only concrete classes");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "has space", "a/b", "naïve", "semi;colon", "quote'd"})
    void registry_refuses_invalid_names_naming_name_and_class(String name) {
        assertThatThrownBy(() -> TypeRegistry.builder().register(OrderCancelled.class, name))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'" + name + "'", OrderCancelled.class.getName());
    }

    @Test
    void registry_accepts_names_up_to_200_characters_and_refuses_longer_ones() {
        String longest = "a".repeat(200);

        assertThat(TypeRegistry.builder().register(OrderCancelled.class, longest).build().classOf(longest))
                .isEqualTo(OrderCancelled.class);
        assertThatThrownBy(() -> TypeRegistry.builder().register(OrderCancelled.class, longest + "a"))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(OrderCancelled.class.getName());
    }

    @Test
    void metadata_round_trips() {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);
        Metadata metadata = Metadata.of("user", "ann").with("correlation-id", "c-1").with("note", "ä \"quoted\"");

        assertThat(serializer.deserializeMetadata(serializer.serializeMetadata(metadata))).isEqualTo(metadata);
        assertThat(serializer.deserializeMetadata(serializer.serializeMetadata(Metadata.empty())))
                .isEqualTo(Metadata.empty());
        assertThat(serializer.serializeMetadata(Metadata.empty())).isEqualTo("{}");
        assertThat(serializer.deserializeMetadata("{ }")).as("any spelling of an empty object").isEqualTo(
                Metadata.empty());
    }

    /** Counts instantiations, to see how often a value is read back. */
    record Counted(String id, List<Line> lines, Optional<Instant> at) {
        static final AtomicInteger CREATED = new AtomicInteger();

        Counted {
            CREATED.incrementAndGet();
        }
    }

    record HoldsInterface(String id, EventInterface thing) {
    }

    record Implementation(String name) implements EventInterface {
    }

    @Test
    void whole_numbers_and_booleans_are_written_exactly_as_jackson_writes_them_and_read_back() throws Exception {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);
        com.fasterxml.jackson.databind.ObjectMapper plain = new com.fasterxml.jackson.databind.ObjectMapper();
        for (Object value : List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 42, Integer.MIN_VALUE, (short) -7,
                (byte) 127, true, false)) {
            SerializedValue stored = serializer.serializeForStorage(value);
            assertThat(stored.data()).as("%s", value).isEqualTo(plain.writeValueAsString(value));
            assertThat(stored.type()).isEqualTo(value.getClass().getName());
            assertThat(serializer.deserialize(stored)).isEqualTo(value);
        }
    }

    @Test
    void a_mapper_told_to_write_numbers_another_way_is_followed_for_results_too() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper asStrings = com.fasterxml.jackson.databind.json.JsonMapper.builder()
                .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_NUMBERS_AS_STRINGS).build();
        com.fasterxml.jackson.databind.ObjectMapper longsAsStrings = new com.fasterxml.jackson.databind.ObjectMapper();
        longsAsStrings.configOverride(Long.class).setFormat(com.fasterxml.jackson.annotation.JsonFormat.Value
                .forShape(com.fasterxml.jackson.annotation.JsonFormat.Shape.STRING));
        for (com.fasterxml.jackson.databind.ObjectMapper mapper : List.of(asStrings, longsAsStrings)) {
            JacksonSerializer serializer = new JacksonSerializer(TypeRegistry.builder().register(OrderCancelled.class)
                    .build(), mapper);
            for (Object value : List.of(42L, -7L)) {
                SerializedValue stored = serializer.serializeForStorage(value);
                assertThat(stored.data()).as("%s", value).isEqualTo("\"" + value + "\"")
                        .isEqualTo(mapper.writeValueAsString(value));
                assertThat(serializer.deserialize(stored)).isEqualTo(value);
            }
            // Integers keep their plain text under a Long-only override, and whatever the mapper writes.
            SerializedValue count = serializer.serializeForStorage(3);
            assertThat(count.data()).isEqualTo(mapper.writeValueAsString(3));
            assertThat(serializer.deserialize(count)).isEqualTo(3);
        }
    }

    @Test
    void a_class_whose_values_cannot_choose_classes_is_read_back_once_not_for_every_value() {
        JacksonSerializer serializer = serializerFor(Counted.class, Line.class);
        Counted.CREATED.set(0);
        for (int i = 0; i < 5; i++) {
            serializer.serializeForStorage(new Counted("c-" + i, List.of(new Line("sku", i)), Optional.empty()));
        }
        assertThat(Counted.CREATED).as("five values and one read-back").hasValue(6);
    }

    @Test
    void a_value_that_names_an_unregistered_class_is_refused_even_after_good_values_of_its_class() {
        JacksonSerializer serializer = serializerFor(Envelope.class, Allowed.class);
        serializer.serializeForStorage(new Envelope("e-1", new Allowed()));
        serializer.serializeForStorage(new Envelope("e-2", new Allowed()));

        assertThatThrownBy(() -> serializer.serializeForStorage(new Envelope("e-3", new Gadget())))
                .isInstanceOfAny(UnregisteredTypeException.class, SerializationException.class)
                .hasMessageContaining(Gadget.class.getName());
    }

    @Test
    void a_value_whose_abstract_property_is_set_is_refused_even_after_a_value_where_it_was_null() {
        JacksonSerializer serializer = serializerFor(HoldsInterface.class, Implementation.class);
        serializer.serializeForStorage(new HoldsInterface("h-1", null));

        assertThatThrownBy(() -> serializer.serializeForStorage(new HoldsInterface("h-2", new Implementation("x"))))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not read back");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"a\"]", "\"text\"", "42", "null", "{\"user\":null}", "{\"user\":{\"id\":1}}",
            "{\"user\":", "not json"})
    void malformed_metadata_json_is_refused_with_serialization_exception(String json) {
        JacksonSerializer serializer = serializerFor(OrderCancelled.class);

        assertThatThrownBy(() -> serializer.deserializeMetadata(json))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("Metadata");
    }
}
