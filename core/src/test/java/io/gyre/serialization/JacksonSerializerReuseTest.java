package io.gyre.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The serializer writes value after value with one generator per thread: each value must come out exactly as a
 * fresh generator would write it, whatever came before it on that thread (another value, a failure half-way, a
 * nested call from a custom serializer).
 */
class JacksonSerializerReuseTest {

    record Note(String id, String text) {
    }

    /** Fails half-way through its object, after its first field, when its text is "fail". */
    @JsonSerialize(using = Fragile.Writer.class)
    record Fragile(String id, String text) {

        static final class Writer extends StdSerializer<Fragile> {

            private static final long serialVersionUID = 1L;

            Writer() {
                super(Fragile.class);
            }

            @Override
            public void serialize(Fragile value, JsonGenerator generator, SerializerProvider provider)
                    throws IOException {
                generator.writeStartObject();
                generator.writeStringField("id", value.id());
                if (value.text().equals("fail")) {
                    throw new IllegalStateException("refused half-way");
                }
                generator.writeStringField("text", value.text());
                generator.writeEndObject();
            }
        }
    }

    /** Writes a note inside itself by calling the Gyre serializer again on the same thread. */
    @JsonSerialize(using = Nesting.Writer.class)
    record Nesting(String id) {

        static JacksonSerializer inner;

        static final class Writer extends StdSerializer<Nesting> {

            private static final long serialVersionUID = 1L;

            Writer() {
                super(Nesting.class);
            }

            @Override
            public void serialize(Nesting value, JsonGenerator generator, SerializerProvider provider)
                    throws IOException {
                generator.writeStartObject();
                generator.writeStringField("id", value.id());
                generator.writeStringField("inner", inner.serialize(new Note(value.id(), "inside")).data());
                generator.writeEndObject();
            }
        }
    }

    private final TypeRegistry types = TypeRegistry.builder().register(Note.class).register(Fragile.class)
            .register(Nesting.class).build();

    @Test
    void valuesWrittenOneAfterAnotherOnAThreadAreEachExactlyTheirOwnJson() {
        JacksonSerializer serializer = new JacksonSerializer(types);
        for (int i = 0; i < 3; i++) {
            assertThat(serializer.serialize(new Note("n-" + i, "héllo \"中\"\n")).data())
                    .isEqualTo("{\"id\":\"n-" + i + "\",\"text\":\"héllo \\\"中\\\"\\n\"}");
        }
        assertThat(serializer.serialize(new Note("a", "b")).data()).isEqualTo("{\"id\":\"a\",\"text\":\"b\"}");
    }

    @Test
    void aValueThatFailsHalfWayLeavesNothingInFrontOfTheNextOne() {
        JacksonSerializer serializer = new JacksonSerializer(types);
        assertThat(serializer.serialize(new Fragile("f-1", "ok")).data()).isEqualTo("{\"id\":\"f-1\",\"text\":\"ok\"}");
        assertThatThrownBy(() -> serializer.serialize(new Fragile("f-2", "fail")))
                .isInstanceOf(RuntimeException.class).hasMessageContaining("refused half-way");
        assertThat(serializer.serialize(new Fragile("f-3", "ok")).data()).isEqualTo("{\"id\":\"f-3\",\"text\":\"ok\"}");
        assertThat(serializer.serialize(new Note("a", "b")).data()).isEqualTo("{\"id\":\"a\",\"text\":\"b\"}");
    }

    @Test
    void aNestedCallOnTheSameThreadWritesItsOwnValue() {
        JacksonSerializer serializer = new JacksonSerializer(types);
        Nesting.inner = serializer;
        assertThat(serializer.serialize(new Note("before", "x")).data())
                .isEqualTo("{\"id\":\"before\",\"text\":\"x\"}");
        assertThat(serializer.serialize(new Nesting("outer")).data())
                .isEqualTo("{\"id\":\"outer\",\"inner\":\"{\\\"id\\\":\\\"outer\\\",\\\"text\\\":\\\"inside\\\"}\"}");
        assertThat(serializer.serialize(new Note("after", "y")).data()).isEqualTo("{\"id\":\"after\",\"text\":\"y\"}");
    }

    /** An unrelated mix-in makes a mapper "not plain": it reads every value through Jackson, the reference. */
    abstract static class NoteMixIn {
    }

    @Test
    void wholeNumbersAndFlagsReadWithoutAParserComeOutAsJacksonReadsThem() {
        JacksonSerializer fast = new JacksonSerializer(types);
        JacksonSerializer reference = new JacksonSerializer(types,
                new ObjectMapper().addMixIn(Note.class, NoteMixIn.class));
        String[] texts = {"0", "-0", "5", "-5", "007", "-007", "00", "2147483647", "2147483648", "-2147483648",
            "-2147483649", "127", "128", "-128", "-129", "255", "256", "32767", "32768", "-32769",
            "123456789012345678", "-123456789012345678", "1234567890123456789", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", " 5", "5 ", "\"5\"", "5.0", "1e3", "null", "true", "false",
            "True", "", "-", "+5", "0x10", "\u0661\u0662", "[1]"};
        for (Class<?> type : java.util.List.of(Long.class, Integer.class, Short.class, Byte.class, Boolean.class)) {
            for (String text : texts) {
                SerializedValue value = new SerializedValue(types.nameOf(type), text);
                Object expected;
                try {
                    expected = reference.deserialize(value);
                } catch (RuntimeException e) {
                    assertThatThrownBy(() -> fast.deserialize(value)).as(type.getSimpleName() + " '" + text + "'")
                            .isInstanceOf(e.getClass());
                    continue;
                }
                assertThat(fast.deserialize(value)).as(type.getSimpleName() + " '" + text + "'")
                        .isEqualTo(expected).isInstanceOf(type);
            }
        }
    }

    @Test
    void anIndentingMapperStillWritesEachValueAlone() {
        JacksonSerializer serializer = new JacksonSerializer(types,
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT));
        String first = serializer.serialize(new Note("a", "b")).data();
        assertThat(serializer.serialize(new Note("a", "b")).data()).isEqualTo(first).startsWith("{");
    }
}
