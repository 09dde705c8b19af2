package io.gyre.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A virtual thread keeps no generator: there is one per task, so a kept generator would be built for one value and
 * then only hold its 20 KB. Runs on Java 21 and later (virtual threads are looked up reflectively, as the code
 * under test does, since Gyre compiles for Java 17); a platform thread still keeps one.
 */
class ReusedGeneratorsVirtualThreadTest {

    record Note(String id, String text) {
    }

    @Test
    void a_platform_thread_keeps_its_generator_and_a_virtual_thread_keeps_none() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ReusedGenerators generators = ReusedGenerators.of(mapper);
        assertThat(generators).isNotNull();
        Note note = new Note("n-1", "hello");
        String expected = mapper.writeValueAsString(note);

        assertThat(generators.write(mapper.writerFor(Note.class), note)).isEqualTo(expected);
        assertThat(generators.keepsGeneratorOnThisThread()).as("platform thread").isTrue();

        Object builder;
        try {
            builder = Thread.class.getMethod("ofVirtual").invoke(null);
        } catch (NoSuchMethodException e) {
            assumeTrue(false, "no virtual threads before Java 21");
            return;
        }
        AtomicReference<String> written = new AtomicReference<>();
        AtomicReference<Boolean> kept = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable task = () -> {
            try {
                written.set(generators.write(mapper.writerFor(Note.class), note));
                kept.set(generators.keepsGeneratorOnThisThread());
            } catch (Throwable e) {
                failure.set(e);
            }
        };
        // Through the public interface: the builder's own class is not accessible.
        Thread virtual = (Thread) Class.forName("java.lang.Thread$Builder").getMethod("start", Runnable.class)
                .invoke(builder, task);
        virtual.join();
        assertThat(failure.get()).isNull();
        assertThat(written.get()).isEqualTo(expected);
        assertThat(kept.get()).as("virtual thread").isFalse();
    }
}
