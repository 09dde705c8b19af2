package io.gyre.serialization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.jsontype.PolymorphicTypeValidator;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.gyre.Metadata;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The default {@link Serializer}: JSON through Jackson, restricted to a {@link TypeRegistry}.
 *
 * <p>Safety: the stored type name is looked up in the registry and the JSON is read into exactly that class;
 * default typing is off, and a polymorphic type validator refuses any class named inside the JSON that is not
 * registered, so stored or received bytes can never instantiate an arbitrary class.
 *
 * <p>Values about to be stored go through {@link #serializeForStorage(Object)}, which proves by reading back that
 * a value could be sourced again, and refuses it before anything is stored otherwise. A class is proven on its
 * first value; only classes whose values may choose classes (type ids, abstract property types) are read back
 * value by value ({@code ReadBackPolicy} says which, and why).
 *
 * <p>Empty metadata, the common case, is written as {@code {}} and read back as {@link Metadata#empty()} without
 * going through Jackson; so are whole numbers and flags (a handler's usual result) in their canonical text, when a
 * probe at construction shows that the mapper writes and reads them exactly so. With a
 * plain JSON mapper, each thread writes its values through one generator it keeps, instead of building one per
 * value ({@code ReusedGenerators}).
 *
 * <p>Evolution: unknown properties are ignored and missing ones take their Java default, so adding or removing
 * a field of an event keeps older and newer stored events readable. Records, {@code java.time} and
 * {@code Optional} are supported; dates are written as ISO-8601 text.
 */
public final class JacksonSerializer implements Serializer {

    /** Empty metadata as stored: what Jackson writes for an empty map, without asking it. */
    private static final String EMPTY_METADATA = "{}";

    private final TypeRegistry types;
    private final ObjectMapper mapper;
    private final Upcasters upcasters;
    private final ClassValue<ObjectWriter> writers;
    private final ClassValue<ObjectReader> readers;
    private final ClassValue<ReadBackPolicy> readBacks;
    /** Null when the mapper is not plain JSON: its values are then written with a generator each. */
    private final @Nullable ReusedGenerators generators;
    /** True when the mapper has no mix-ins or modules of its own, which could read a number or flag their way. */
    private final boolean mapperIsPlain;
    /**
     * The whole-number and flag classes written and read as their canonical text without Jackson: those whose text
     * this mapper writes and reads exactly so ({@link #writtenAsCanonicalText}). None for a mapper that is not plain.
     */
    private final Set<Class<?>> canonicalText;

    /**
     * @param types the allow-list
     */
    public JacksonSerializer(TypeRegistry types) {
        this(types, new ObjectMapper());
    }

    /**
     * @param types  the allow-list
     * @param mapper a mapper with the application's own modules or settings; it is copied, and the copy gets
     *               Gyre's safety settings on top
     */
    public JacksonSerializer(TypeRegistry types, ObjectMapper mapper) {
        this(types, mapper, Upcasters.none());
    }

    /**
     * @param types     the allow-list
     * @param mapper    a mapper with the application's own modules or settings; it is copied, and the copy gets
     *                  Gyre's safety settings on top
     * @param upcasters rewrite events stored at older revisions of their class, see
     *                  {@link #deserialize(SerializedValue, int)}
     */
    public JacksonSerializer(TypeRegistry types, ObjectMapper mapper, Upcasters upcasters) {
        this.upcasters = Objects.requireNonNull(upcasters, "upcasters");
        this.types = Objects.requireNonNull(types, "types");
        ObjectMapper copy = Objects.requireNonNull(mapper, "mapper").copy();
        boolean mapperIsPlain = isPlain(copy);
        this.mapperIsPlain = mapperIsPlain;
        this.mapper = configure(copy, types);
        this.generators = ReusedGenerators.of(this.mapper);
        this.canonicalText = mapperIsPlain ? writtenAsCanonicalText(this.mapper) : Set.of();
        this.writers = new ClassValue<>() {
            @Override
            protected ObjectWriter computeValue(Class<?> type) {
                return JacksonSerializer.this.mapper.writerFor(type);
            }
        };
        this.readers = new ClassValue<>() {
            @Override
            protected ObjectReader computeValue(Class<?> type) {
                return JacksonSerializer.this.mapper.readerFor(type);
            }
        };
        this.readBacks = new ClassValue<>() {
            @Override
            protected ReadBackPolicy computeValue(Class<?> type) {
                return ReadBackPolicy.of(type, mapperIsPlain);
            }
        };
    }

    /**
     * A mapper with mix-ins or modules other than the JDK-type ones may read any class in ways that depend on the
     * value, so its values are all read back before they are stored.
     */
    private static boolean isPlain(ObjectMapper mapper) {
        if (mapper.mixInCount() > 0) {
            return false;
        }
        for (Object id : mapper.getRegisteredModuleIds()) {
            String name = String.valueOf(id);
            if (!name.startsWith("com.fasterxml.jackson.datatype.jsr310")
                    && !name.startsWith("com.fasterxml.jackson.datatype.jdk8")
                    && !name.startsWith("com.fasterxml.jackson.module.paramnames")) {
                return false;
            }
        }
        return true;
    }

    private static ObjectMapper configure(ObjectMapper mapper, TypeRegistry types) {
        mapper.registerModule(new JavaTimeModule());
        mapper.registerModule(new Jdk8Module());
        mapper.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        mapper.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        mapper.deactivateDefaultTyping();
        mapper.setPolymorphicTypeValidator(new RegisteredTypesOnly(types));
        return mapper;
    }

    @Override
    public SerializedValue serialize(Object value) {
        Objects.requireNonNull(value, "value");
        String name = types.nameOf(value.getClass());
        if (canonicalText.contains(value.getClass())) {
            // A handler's usual result (a balance, a count, a flag): its JSON is its decimal text, which Jackson
            // would take a generator and a serializer look-up to write.
            return new SerializedValue(name, value.toString());
        }
        String json;
        ObjectWriter writer = writers.get(value.getClass());
        try {
            json = generators != null ? generators.write(writer, value) : writer.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new SerializationException("Cannot write " + value.getClass().getName() + " ('" + name
                    + "') as JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            // Only a JSON problem can happen here: the generator writes to memory.
            throw new SerializationException("Cannot write " + value.getClass().getName() + " ('" + name
                    + "') as JSON: " + e.getMessage(), e);
        }
        return new SerializedValue(name, json);
    }

    /**
     * Asks the mapper how it writes and reads a few values of each whole-number and flag class, extremes included,
     * and keeps the classes it writes as their decimal text (or {@code true}/{@code false}) and reads back equal.
     * A plain mapper can still be told otherwise without a module or mix-in (numbers written as strings, a shape
     * override for {@code Long}), and the short cut must never write what the mapper would not.
     */
    private static Set<Class<?>> writtenAsCanonicalText(ObjectMapper mapper) {
        Map<Class<?>, List<Object>> probes = Map.of(
                Long.class, List.of(Long.MIN_VALUE, -1L, 0L, 42L, Long.MAX_VALUE),
                Integer.class, List.of(Integer.MIN_VALUE, -1, 0, 42, Integer.MAX_VALUE),
                Short.class, List.of(Short.MIN_VALUE, (short) -1, (short) 0, Short.MAX_VALUE),
                Byte.class, List.of(Byte.MIN_VALUE, (byte) -1, (byte) 0, Byte.MAX_VALUE),
                Boolean.class, List.of(true, false));
        Set<Class<?>> canonical = new HashSet<>();
        probes.forEach((type, values) -> {
            try {
                for (Object value : values) {
                    String text = value.toString();
                    if (!text.equals(mapper.writerFor(type).writeValueAsString(value))
                            || !value.equals(mapper.readerFor(type).readValue(text))) {
                        return;
                    }
                }
                canonical.add(type);
            } catch (java.io.IOException e) {
                // This mapper reads or writes them its own way: leave them to it.
            }
        });
        return Set.copyOf(canonical);
    }

    /**
     * Reads the canonical text of a whole number or flag, the text {@link #serialize} writes: an optional minus and
     * decimal digits without a leading zero, in the type's range, or {@code true} or {@code false}.
     *
     * @return the value, or null for any other text (spaces, a quoted number, a leading zero, out of range, JSON
     *         null), which Jackson then reads, accepts or refuses exactly as before
     */
    private static @Nullable Object readWholeNumberOrBoolean(Class<?> type, String json) {
        if (type == Boolean.class) {
            return "true".equals(json) ? Boolean.TRUE : "false".equals(json) ? Boolean.FALSE : null;
        }
        int length = json.length();
        int first = length > 0 && json.charAt(0) == '-' ? 1 : 0;
        // At most 18 digits: any such number is a long, so parsing cannot overflow.
        if (length == first || length - first > 18 || json.charAt(first) == '0' && length > first + 1) {
            return null;
        }
        long value = 0;
        for (int i = first; i < length; i++) {
            char c = json.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            value = value * 10 + (c - '0');
        }
        value = first == 1 ? -value : value;
        if (type == Long.class) {
            return value;
        }
        if (type == Integer.class) {
            return value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE ? Integer.valueOf((int) value) : null;
        }
        if (type == Short.class) {
            return value >= Short.MIN_VALUE && value <= Short.MAX_VALUE ? Short.valueOf((short) value) : null;
        }
        return value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE ? Byte.valueOf((byte) value) : null;
    }

    @Override
    public SerializedValue serializeForStorage(Object value) {
        Objects.requireNonNull(value, "value");
        ReadBackPolicy readBack = readBacks.get(value.getClass());
        if (!readBack.needed()) {
            return serialize(value);
        }
        SerializedValue serialized = Serializer.super.serializeForStorage(value);
        readBack.passed();
        return serialized;
    }

    @Override
    public Object deserialize(SerializedValue serialized) {
        Class<?> type = types.classOf(serialized.type());
        if (canonicalText.contains(type)) {
            // A routed command's result comes back as such text: read it as Jackson would, without a parser.
            Object value = readWholeNumberOrBoolean(type, serialized.data());
            if (value != null) {
                return value;
            }
        }
        try {
            Object value = readers.get(type).readValue(serialized.data());
            if (value == null) {
                throw new SerializationException("Data of type '" + serialized.type() + "' is JSON null", null);
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new SerializationException("Data of type '" + serialized.type() + "' does not fit "
                    + type.getName() + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads a stored event, upcasting it first when it was stored at an older revision of its class: its JSON is
     * parsed into a tree, passed through the upcasters from its stored revision up to the class's current one, in
     * order, and the result read as the class. An event at the current revision is read directly, with no tree.
     *
     * @throws UpcastingException naming the type and stored revision, when an upcaster is missing, fails or returns
     *                            null, when the upcast JSON does not fit the class, or when the event is newer than
     *                            the class
     */
    @Override
    public Object deserialize(SerializedValue serialized, int revision) {
        Class<?> type = types.classOf(serialized.type());
        int current = Upcasters.revisionOf(type);
        if (revision == current) {
            return deserialize(serialized);
        }
        String event = "Event type '" + serialized.type() + "' (" + type.getName() + ") stored at revision " + revision;
        if (revision > current) {
            throw new UpcastingException(serialized.type(), revision, event + " is newer than its class, which is at "
                    + "revision " + current + ": it was written by a newer version of the application, which must "
                    + "read it", null);
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(serialized.data());
        } catch (JsonProcessingException e) {
            throw new UpcastingException(serialized.type(), revision, event + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        for (int from = revision; from < current; from++) {
            Upcaster upcaster = upcasters.find(type, from);
            if (upcaster == null) {
                throw new UpcastingException(serialized.type(), revision, event + " needs an upcaster from revision "
                        + from + " to " + (from + 1) + ", and none is registered; add one with Gyre.builder()"
                        + ".upcaster(" + type.getSimpleName() + ".class, " + from + ", json -> ...)", null);
            }
            if (!(tree instanceof com.fasterxml.jackson.databind.node.ObjectNode object)) {
                throw new UpcastingException(serialized.type(), revision, event + " is not a JSON object at revision "
                        + from + " (it is " + (tree == null ? "null" : tree.getNodeType()) + "), so the upcaster from "
                        + "revision " + from + " cannot take it", null);
            }
            try {
                tree = upcaster.upcast(object);
            } catch (RuntimeException e) {
                throw new UpcastingException(serialized.type(), revision, event + ": the upcaster from revision "
                        + from + " to " + (from + 1) + " failed", e);
            }
            if (tree == null) {
                throw new UpcastingException(serialized.type(), revision, event + ": the upcaster from revision "
                        + from + " to " + (from + 1) + " returned null", null);
            }
        }
        try {
            Object value = readers.get(type).readValue(tree);
            if (value == null) {
                throw new UpcastingException(serialized.type(), revision, event + " was upcast to JSON null", null);
            }
            return value;
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new UpcastingException(serialized.type(), revision, event + " was upcast to revision " + current
                    + " by its upcasters, but the result cannot be read as " + type.getName() + ": "
                    + (e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage())
                    + "; upcast JSON: " + abbreviate(tree.toString()), e);
        }
    }

    private static String abbreviate(String json) {
        return json.length() <= 300 ? json : json.substring(0, 297) + "...";
    }

    @Override
    public String serializeMetadata(Metadata metadata) {
        if (metadata.isEmpty()) {
            return EMPTY_METADATA;
        }
        try {
            return mapper.writeValueAsString(metadata.entries());
        } catch (JsonProcessingException e) {
            throw new SerializationException("Cannot write metadata " + metadata, e);
        }
    }

    @Override
    public Metadata deserializeMetadata(String json) {
        if (EMPTY_METADATA.equals(json)) {
            return Metadata.empty();
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SerializationException("Metadata is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (tree == null || !tree.isObject()) {
            throw new SerializationException("Metadata is not a JSON object: " + json, null);
        }
        Map<String, String> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : tree.properties()) {
            if (!field.getValue().isTextual()) {
                throw new SerializationException("Metadata value of key '" + field.getKey()
                        + "' is not a string: " + field.getValue(), null);
            }
            entries.put(field.getKey(), field.getValue().textValue());
        }
        return Metadata.from(entries);
    }

    @Override
    public TypeRegistry types() {
        return types;
    }

    /** Refuses every class named inside JSON that is not on the allow-list. */
    private static final class RegisteredTypesOnly extends PolymorphicTypeValidator.Base {

        private static final long serialVersionUID = 1L;

        private final Set<String> allowedNames;

        RegisteredTypesOnly(TypeRegistry types) {
            this.allowedNames = types.classes().stream().map(Class::getName).collect(Collectors.toUnmodifiableSet());
        }

        @Override
        public Validity validateSubClassName(MapperConfig<?> config, JavaType baseType, String subClassName) {
            return allowedNames.contains(subClassName) ? Validity.ALLOWED : Validity.DENIED;
        }

        @Override
        public Validity validateSubType(MapperConfig<?> config, JavaType baseType, JavaType subType) {
            return allowedNames.contains(subType.getRawClass().getName()) ? Validity.ALLOWED : Validity.DENIED;
        }
    }
}
