package io.gyre.serialization;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Review of the per-thread generator (ReusedGenerators): each value must come out exactly as a serializer that
 * builds a generator per value writes it (the reference here: the same mapper on a subclassed factory, which is
 * never reused), whatever the thread wrote before and whatever the value's own serializer does to the generator.
 */
class ReusedGeneratorsReviewTest {

    record Note(String id, String text) {
    }

    /** Closes the generator it was given once it has written itself, as some hand-written serializers do. */
    @JsonSerialize(using = Closing.Writer.class)
    record Closing(String id) {

        static final class Writer extends StdSerializer<Closing> {

            private static final long serialVersionUID = 1L;

            Writer() {
                super(Closing.class);
            }

            @Override
            public void serialize(Closing value, JsonGenerator generator, SerializerProvider provider)
                    throws IOException {
                generator.writeStartObject();
                generator.writeStringField("id", value.id());
                generator.writeEndObject();
                generator.close();
            }
        }
    }

    /** Calls the Gyre serializer on a value that fails, catches the failure, and writes itself anyway. */
    @JsonSerialize(using = CatchesNested.Writer.class)
    record CatchesNested(String id) {

        static JacksonSerializer inner;

        static final class Writer extends StdSerializer<CatchesNested> {

            private static final long serialVersionUID = 1L;

            Writer() {
                super(CatchesNested.class);
            }

            @Override
            public void serialize(CatchesNested value, JsonGenerator generator, SerializerProvider provider)
                    throws IOException {
                generator.writeStartObject();
                generator.writeStringField("id", value.id());
                try {
                    inner.serialize(new Object()); // unregistered: refused
                } catch (RuntimeException expected) {
                    generator.writeStringField("nested", expected.getClass().getSimpleName());
                }
                generator.writeStringField("after", inner.serialize(new Note("n", "\u00e9\"\n")).data());
                generator.writeEndObject();
            }
        }
    }

    private final TypeRegistry types = TypeRegistry.builder().register(Note.class).register(Closing.class)
            .register(CatchesNested.class).build();

    /** A subclassed factory is never reused: one generator per value, the old way. */
    static final class Unreused extends JsonFactory {

        private static final long serialVersionUID = 1L;

        Unreused() {
        }

        private Unreused(Unreused source) {
            super(source, null);
        }

        @Override
        public JsonFactory copy() {
            return new Unreused(this);
        }
    }

    private static ObjectMapper mapper(boolean reused, boolean escapeNonAscii) {
        ObjectMapper mapper = reused ? new ObjectMapper() : new ObjectMapper(new Unreused());
        mapper.getFactory().configure(JsonWriteFeature.ESCAPE_NON_ASCII.mappedFeature(), escapeNonAscii);
        return mapper;
    }

    @Test
    void aSerializerThatClosesItsGeneratorLeavesTheNextValuesIntact() {
        JacksonSerializer serializer = new JacksonSerializer(types);
        assertThat(serializer.serialize(new Closing("a")).data()).isEqualTo("{\"id\":\"a\"}");
        assertThat(serializer.serialize(new Note("b", "c")).data()).isEqualTo("{\"id\":\"b\",\"text\":\"c\"}");
        assertThat(serializer.serialize(new Closing("d")).data()).isEqualTo("{\"id\":\"d\"}");
    }

    @Test
    void aNestedFailureCaughtByTheOuterSerializerLeavesBothValuesIntact() {
        JacksonSerializer serializer = new JacksonSerializer(types);
        CatchesNested.inner = serializer;
        String expected = new JacksonSerializer(types, mapper(false, false)).serialize(new CatchesNested("x")).data();
        assertThat(serializer.serialize(new CatchesNested("x")).data()).isEqualTo(expected)
                .contains("\"nested\":\"").contains("\"after\":");
        assertThat(serializer.serialize(new Note("y", "z")).data()).isEqualTo("{\"id\":\"y\",\"text\":\"z\"}");
    }

    @Test
    void hugeNonAsciiAndEscapedStringsThenSmallOnesFromManyThreadsMatchAFreshGenerator() throws Exception {
        for (boolean escapeNonAscii : new boolean[] {false, true}) {
            JacksonSerializer reused = new JacksonSerializer(types, mapper(true, escapeNonAscii));
            JacksonSerializer fresh = new JacksonSerializer(types, mapper(false, escapeNonAscii));
            ObjectMapper plain = mapper(true, escapeNonAscii);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(pool.submit(() -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        int checked = 0;
                        for (int i = 0; i < 400; i++) {
                            int length = random.nextInt(4) == 0 ? 16 * 1024 + random.nextInt(40_000)
                                    : random.nextInt(60);
                            StringBuilder text = new StringBuilder(length);
                            for (int c = 0; c < length; c++) {
                                int pick = random.nextInt(10);
                                text.append(pick == 0 ? '"' : pick == 1 ? '\\' : pick == 2 ? '\n'
                                        : pick == 3 ? '\u00e9' : pick == 4 ? "\ud83d\ude00".charAt(c % 2)
                                        : pick == 5 ? '\u0001' : (char) ('a' + random.nextInt(26)));
                            }
                            Note note = new Note("n" + i, text.toString());
                            String json = reused.serialize(note).data();
                            assertThat(json).isEqualTo(fresh.serialize(note).data());
                            assertThat(json).isEqualTo(plain.writeValueAsString(note));
                            assertThat(reused.deserialize(new SerializedValue(types.nameOf(Note.class), json)))
                                    .isEqualTo(note);
                            checked++;
                        }
                        return checked;
                    }));
                }
                for (Future<Integer> result : results) {
                    assertThat(result.get()).isEqualTo(400);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
