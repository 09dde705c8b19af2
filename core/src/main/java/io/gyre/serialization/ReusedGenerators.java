package io.gyre.serialization;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.Writer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One JSON generator per thread, kept and written to value after value, instead of the generator, write context,
 * I/O context and string writer that {@code ObjectWriter.writeValueAsString} builds and drops for every value. Every
 * command crosses {@link JacksonSerializer#serialize} several times (its fingerprint, its events, on a cluster its
 * payload and its result): writing a small record allocated 552 bytes, 184 with a kept generator, and
 * {@code serialize} had been the largest allocator of a cluster benchmark (19% of its bytes).
 *
 * <p>A generator written to again puts a root value separator before each value after its first; the generators
 * here have none. Only a plain JSON factory without indentation is served (see {@link #of}): a pretty printer writes
 * a separator of its own, and another format (YAML, Smile) would not produce JSON text. A generator whose value
 * failed half-way is dropped, so a failure never leaves half a value in front of the next one; a nested call on the
 * same thread (a custom Jackson serializer that calls Gyre's) writes its value the usual way. A generator that a
 * value's serializer closed is dropped too.
 *
 * <p>Cost: each thread that serializes keeps, per serializer, a generator and its buffers (about 20 KB); a value
 * larger than 16 K characters does not keep its buffer. Virtual threads (Java 21 and later) keep nothing: there is
 * typically one per task, so a generator kept by one would be built for a single value and then only hold memory;
 * they write each value the usual way.
 */
final class ReusedGenerators {

    /** {@code Thread.isVirtual()} on Java 21 and later; null on Java 17, which has no virtual threads. */
    private static final @Nullable MethodHandle IS_VIRTUAL = isVirtualHandle();

    private final JsonFactory factory;
    private final ThreadLocal<@Nullable Output> outputs = new ThreadLocal<>();

    private ReusedGenerators(JsonFactory factory) {
        this.factory = factory;
    }

    /**
     * @param mapper the serializer's configured mapper
     * @return generators to reuse for it, or null when it is not plain JSON (a subclassed factory, another format,
     *         indentation), whose values are then written the usual way
     */
    static @Nullable ReusedGenerators of(ObjectMapper mapper) {
        JsonFactory factory = mapper.getFactory();
        boolean plainJson = factory.getClass() == JsonFactory.class
                || factory.getClass() == com.fasterxml.jackson.databind.MappingJsonFactory.class;
        if (!plainJson || mapper.isEnabled(SerializationFeature.INDENT_OUTPUT)) {
            return null;
        }
        return new ReusedGenerators(factory);
    }

    /**
     * @param writer a writer of the mapper this was made {@link #of}
     * @param value  the value
     * @return its JSON text
     * @throws IOException as {@code ObjectWriter.writeValue} throws it
     */
    String write(ObjectWriter writer, Object value) throws IOException {
        if (onVirtualThread()) {
            return writer.writeValueAsString(value);
        }
        Output output = outputs.get();
        if (output == null || output.busy) {
            if (output != null) {
                return writer.writeValueAsString(value); // nested call: the thread's generator is half-way
            }
            output = new Output(factory);
            outputs.set(output);
        }
        output.busy = true;
        boolean done = false;
        try {
            writer.writeValue(output.generator, value);
            output.generator.flush();
            String json = output.text.take();
            // A value's own serializer may have closed the generator, which drops its buffer: the next value
            // would fail on it, so a closed generator is not kept.
            done = !output.generator.isClosed();
            return json;
        } finally {
            output.busy = false;
            if (!done) {
                outputs.remove(); // its generator may be inside an object now
            }
        }
    }

    /** @return true when the calling thread keeps a generator (for tests) */
    boolean keepsGeneratorOnThisThread() {
        return outputs.get() != null;
    }

    private static boolean onVirtualThread() {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
            throw new IllegalStateException("Thread.isVirtual() failed", e);
        }
    }

    private static @Nullable MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return null;
        }
    }

    /** A thread's generator and the characters it wrote. */
    private static final class Output {

        final CharBuffer text = new CharBuffer();
        final JsonGenerator generator;
        boolean busy;

        Output(JsonFactory factory) throws IOException {
            generator = factory.createGenerator(text);
            // Each value is a document of its own: nothing goes between them (the factory's default is a space).
            generator.setRootValueSeparator(null);
        }
    }

    /** A growable character array that a generator flushes into, emptied by each {@link #take()}. */
    private static final class CharBuffer extends Writer {

        /** Larger values are not kept between calls: one big value must not pin its buffer to a pool thread. */
        private static final int KEPT_CAPACITY = 16 * 1024;

        private char[] chars = new char[256];
        private int size;

        @Override
        public void write(char[] source, int offset, int length) {
            ensure(length);
            System.arraycopy(source, offset, chars, size, length);
            size += length;
        }

        @Override
        public void write(String source, int offset, int length) {
            ensure(length);
            source.getChars(offset, offset + length, chars, size);
            size += length;
        }

        @Override
        public void write(int c) {
            ensure(1);
            chars[size++] = (char) c;
        }

        private void ensure(int more) {
            if (size + more > chars.length) {
                chars = Arrays.copyOf(chars, Math.max(size + more, chars.length * 2));
            }
        }

        String take() {
            String text = new String(chars, 0, size);
            size = 0;
            if (chars.length > KEPT_CAPACITY) {
                chars = new char[256];
            }
            return text;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
