package io.gyre.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Upcasting in the serializer: upcasters checked when registered, applied in order, and clear errors. */
class UpcastingSerializerTest {

    @Revision(2)
    record Renamed(String name, int size) {
    }

    record Plain(String name) {
    }

    private final List<String> calls = new ArrayList<>();

    private Serializer serializer(Upcasters upcasters) {
        return new JacksonSerializer(TypeRegistry.builder().register(Renamed.class, "Renamed")
                .register(Plain.class, "Plain").build(),
                new ObjectMapper(), upcasters);
    }

    private Upcasters twoSteps() {
        return Upcasters.builder()
                .add(Renamed.class, 1, json -> {
                    calls.add("1->2");
                    return json.put("size", json.remove("length").asInt());
                })
                .add(Renamed.class, 0, json -> {
                    calls.add("0->1");
                    return json.set("name", json.remove("title"));
                })
                .build();
    }

    @Test
    void an_event_is_upcast_from_its_stored_revision_through_each_later_one_in_order() {
        Serializer serializer = serializer(twoSteps());

        Object read = serializer.deserialize(new SerializedValue("Renamed", "{\"title\":\"a\",\"length\":3}"), 0);

        assertThat(read).isEqualTo(new Renamed("a", 3));
        assertThat(calls).containsExactly("0->1", "1->2");
        assertThat(serializer.deserialize(new SerializedValue("Renamed", "{\"name\":\"b\",\"length\":4}"), 1))
                .isEqualTo(new Renamed("b", 4));
        assertThat(serializer.deserialize(new SerializedValue("Renamed", "{\"name\":\"c\",\"size\":5}"), 2))
                .isEqualTo(new Renamed("c", 5));
        assertThat(calls).containsExactly("0->1", "1->2", "1->2");
    }

    @Test
    void an_event_newer_than_its_class_is_refused_naming_type_and_revision() {
        assertThatThrownBy(() -> serializer(twoSteps())
                .deserialize(new SerializedValue("Renamed", "{\"name\":\"a\",\"size\":1}"), 3))
                .isInstanceOfSatisfying(UpcastingException.class, e -> {
                    assertThat(e.typeName()).isEqualTo("Renamed");
                    assertThat(e.revision()).isEqualTo(3);
                })
                .hasMessageContaining("stored at revision 3 is newer than its class, which is at revision 2");
    }

    @Test
    void an_upcaster_that_returns_null_is_named_by_its_revision() {
        Serializer serializer = serializer(Upcasters.builder().add(Renamed.class, 0, json -> json)
                .add(Renamed.class, 1, json -> null).build());

        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("Renamed", "{}"), 0))
                .isInstanceOf(UpcastingException.class)
                .hasMessageContaining("Event type 'Renamed'")
                .hasMessageContaining("stored at revision 0")
                .hasMessageContaining("the upcaster from revision 1 to 2 returned null");
    }

    @Test
    void upcasters_outside_the_classs_revisions_or_twice_for_one_revision_are_refused_at_registration() {
        assertThatThrownBy(() -> Upcasters.builder().add(Renamed.class, 2, json -> json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must start from 0 to 1, below the class's @Revision(2), but was from "
                        + "revision 2");
        assertThatThrownBy(() -> Upcasters.builder().add(Plain.class, 0, json -> json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("annotate the class with @Revision(1) for its first upcaster");
        assertThatThrownBy(() -> Upcasters.builder().add(Renamed.class, 0, json -> json)
                .add(Renamed.class, 0, json -> json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already has an upcaster from revision 0");
    }

    @Test
    void a_serializer_without_upcasters_reads_the_current_revision_and_refuses_older_ones() {
        Serializer serializer = serializer(Upcasters.none());

        assertThat(serializer.deserialize(new SerializedValue("Plain", "{\"name\":\"p\"}"), 0))
                .isEqualTo(new Plain("p"));
        assertThat(serializer.revisionOf(Renamed.class)).isEqualTo(2);
        assertThatThrownBy(() -> serializer.deserialize(new SerializedValue("Renamed", "{}"), 1))
                .isInstanceOf(UpcastingException.class)
                .hasMessageContaining("needs an upcaster from revision 1 to 2");
    }
}
