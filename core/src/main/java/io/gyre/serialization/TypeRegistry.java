package io.gyre.serialization;

import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The serialization allow-list: every event and command class Gyre may write or instantiate, each under one
 * stable {@link TypeName type name}. Immutable; build it with {@link #builder()}. A {@code Gyre} node builds
 * its registry from the command and event types its aggregates handle plus any types given explicitly.
 *
 * <p>Every registry also holds the {@link #BUILT_IN built-in} JDK value types under their class names, so that
 * command results such as a {@code String} id or a {@code long} balance can be sent back across the cluster and
 * stored for de-duplication.
 */
public final class TypeRegistry {

    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9._$-]{1,200}");

    /** JDK value types every registry allows, each under its class name. */
    public static final List<Class<?>> BUILT_IN = List.of(String.class, Boolean.class, Byte.class, Short.class,
            Integer.class, Long.class, Float.class, Double.class, Character.class, java.math.BigInteger.class,
            java.math.BigDecimal.class, java.util.UUID.class, java.time.Instant.class, java.time.LocalDate.class,
            java.time.LocalDateTime.class, java.time.OffsetDateTime.class, java.time.Duration.class);

    private final Map<Class<?>, String> namesByClass;
    private final Map<String, Class<?>> classesByName;

    private TypeRegistry(Map<Class<?>, String> namesByClass, Map<String, Class<?>> classesByName) {
        this.namesByClass = Collections.unmodifiableMap(new LinkedHashMap<>(namesByClass));
        this.classesByName = Collections.unmodifiableMap(new LinkedHashMap<>(classesByName));
    }

    /** @return a builder holding only the {@link #BUILT_IN built-in} types */
    public static Builder builder() {
        Builder builder = new Builder();
        for (Class<?> type : BUILT_IN) {
            builder.register(type, type.getName());
        }
        return builder;
    }

    /** @return a builder holding this registry's types, to add more */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.namesByClass.putAll(namesByClass);
        builder.classesByName.putAll(classesByName);
        return builder;
    }

    /**
     * @param type a class
     * @return its registered name
     * @throws UnregisteredTypeException when the class is not registered
     */
    public String nameOf(Class<?> type) {
        String name = namesByClass.get(type);
        if (name == null) {
            throw new UnregisteredTypeException("Type " + type.getName() + " is not registered for serialization; "
                    + "handle it in an @EventSourcingHandler or @CommandHandler of a registered aggregate, "
                    + "or register it with Gyre.builder().types(" + type.getSimpleName() + ".class)");
        }
        return name;
    }

    /**
     * @param name a type name read from storage or the wire
     * @return the registered class
     * @throws UnregisteredTypeException when no class is registered under the name
     */
    public Class<?> classOf(String name) {
        Class<?> type = classesByName.get(name);
        if (type == null) {
            throw new UnregisteredTypeException("Type name '" + name + "' is not registered for serialization "
                    + "(known: " + classesByName.keySet() + "); nothing is instantiated from unregistered data");
        }
        return type;
    }

    /**
     * @param type a class
     * @return true when it is registered
     */
    public boolean contains(Class<?> type) {
        return namesByClass.containsKey(type);
    }

    /** @return the registered classes */
    public Set<Class<?>> classes() {
        return namesByClass.keySet();
    }

    /**
     * The name a class gets when registered: its {@link TypeName} or else its class name without the package.
     *
     * @param type a class
     * @return the name it is registered under
     */
    public static String defaultNameOf(Class<?> type) {
        TypeName annotation = type.getAnnotation(TypeName.class);
        if (annotation != null) {
            return annotation.value();
        }
        String packageName = type.getPackageName();
        return packageName.isEmpty() ? type.getName() : type.getName().substring(packageName.length() + 1);
    }

    @Override
    public String toString() {
        return "TypeRegistry" + classesByName.keySet();
    }

    /** Collects types; refuses conflicting names at once. Not thread-safe. */
    public static final class Builder {

        private final Map<Class<?>, String> namesByClass = new LinkedHashMap<>();
        private final Map<String, Class<?>> classesByName = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Registers a concrete class under its {@link #defaultNameOf default name}. Registering the same class
         * again is a no-op.
         *
         * @param type a concrete class
         * @return this builder
         * @throws IllegalArgumentException when the class is abstract, an interface, an array or a primitive,
         *                                  or its name is taken by another class or malformed
         */
        public Builder register(Class<?> type) {
            Objects.requireNonNull(type, "type");
            if (namesByClass.containsKey(type)) {
                return this;
            }
            return register(type, type.isPrimitive() || type.isArray() ? type.getName() : defaultNameOf(type));
        }

        /**
         * Registers a concrete class under an explicit name.
         *
         * @param type a concrete class
         * @param name its stable name
         * @return this builder
         * @throws IllegalArgumentException as for {@link #register(Class)}, or when the class is already
         *                                  registered under another name
         */
        public Builder register(Class<?> type, String name) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(name, "name");
            if (type.isPrimitive() || type.isArray() || type.isInterface()
                    || Modifier.isAbstract(type.getModifiers())) {
                throw new IllegalArgumentException("Type " + type.getName()
                        + " cannot be registered for serialization: only concrete classes can be instantiated");
            }
            if (!VALID_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("Type name '" + name + "' of " + type.getName()
                        + " must be 1 to 200 letters, digits or . _ $ -");
            }
            String existingName = namesByClass.get(type);
            if (existingName != null && !existingName.equals(name)) {
                throw new IllegalArgumentException("Type " + type.getName() + " is already registered as '"
                        + existingName + "', not '" + name + "'");
            }
            Class<?> existingClass = classesByName.get(name);
            if (existingClass != null && existingClass != type) {
                throw new IllegalArgumentException("Type name '" + name + "' is taken by " + existingClass.getName()
                        + " and cannot also name " + type.getName() + "; give one of them a @TypeName");
            }
            namesByClass.put(type, name);
            classesByName.put(name, type);
            return this;
        }

        /** @return the immutable registry */
        public TypeRegistry build() {
            return new TypeRegistry(namesByClass, classesByName);
        }
    }
}
