package io.gyre.serialization;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides, per class, how often {@link JacksonSerializer#serializeForStorage(Object)} must read a value back to
 * prove it can be sourced again: once per class, or for every value.
 *
 * <p>Why once is enough for most classes: whether Jackson can read a value back depends on its class (a usable
 * constructor, registered classes, property names), not on its field values, as long as nothing in the class lets
 * the value choose a class. Reading back every event cost a full JSON parse and an allocation per event on the
 * command path, so a class is proven once, on its first value, and trusted after.
 *
 * <p>What makes the value choose, so every value is read back: a {@link JsonTypeInfo} anywhere in the class's
 * property graph (the value names a class, which may not be registered), a property whose declared type is an
 * interface or abstract class of the application (fine while null, unreadable once set), a type variable or
 * wildcard, a custom {@link JsonDeserialize}, or a mapper from the application with mix-ins or modules of its own
 * (they may change any of this unseen). JDK value types ({@code String}, numbers, {@code java.time}, {@code UUID},
 * enums) and {@code java.util} collections, maps and {@code Optional} are followed into their type arguments.
 * Honest limit: a class whose readability depends on its values in some other way (a {@code @JsonCreator} that
 * refuses values its constructor accepted) is checked on its first value only; loading would then name the event.
 */
final class ReadBackPolicy {

    private final boolean everyValue;
    private volatile boolean proven;

    private ReadBackPolicy(boolean everyValue) {
        this.everyValue = everyValue;
    }

    /**
     * @param type             a registered class
     * @param mapperIsOurs     false when the application's mapper brought mix-ins or modules of its own
     * @return the policy for its values
     */
    static ReadBackPolicy of(Class<?> type, boolean mapperIsOurs) {
        return new ReadBackPolicy(!mapperIsOurs || valueMayChooseClasses(type, new HashSet<>()));
    }

    /** @return true when the next value must be read back */
    boolean needed() {
        return everyValue || !proven;
    }

    /** Records that a value was read back: the class is proven, unless each of its values must be. */
    void passed() {
        proven = true;
    }

    private static boolean valueMayChooseClasses(Type type, Set<Class<?>> seen) {
        if (type instanceof Class<?> c) {
            return classMayChoose(c, seen);
        }
        if (type instanceof ParameterizedType parameterized) {
            if (valueMayChooseClasses(parameterized.getRawType(), seen)) {
                return true;
            }
            for (Type argument : parameterized.getActualTypeArguments()) {
                if (valueMayChooseClasses(argument, seen)) {
                    return true;
                }
            }
            return false;
        }
        if (type instanceof GenericArrayType array) {
            return valueMayChooseClasses(array.getGenericComponentType(), seen);
        }
        return true; // a type variable or a wildcard: the value's class decides
    }

    private static boolean classMayChoose(Class<?> c, Set<Class<?>> seen) {
        if (c.isPrimitive() || c.isEnum() || !seen.add(c)) {
            return false;
        }
        if (c.isArray()) {
            return classMayChoose(c.getComponentType(), seen);
        }
        if (c == Object.class) {
            return true;
        }
        if (isJdk(c)) {
            // Value types, and containers whose element types were followed as type arguments.
            return !(Collection.class.isAssignableFrom(c) || Map.class.isAssignableFrom(c) || c == Optional.class)
                    && (c.isInterface() || Modifier.isAbstract(c.getModifiers())) && !isJdkValueInterface(c);
        }
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers()) || annotatedToChoose(c)) {
            return true;
        }
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            if (annotatedToChoose(k)) {
                return true;
            }
            if (k.isRecord()) {
                for (RecordComponent component : k.getRecordComponents()) {
                    if (component.isAnnotationPresent(JsonTypeInfo.class)
                            || component.isAnnotationPresent(JsonDeserialize.class)
                            || valueMayChooseClasses(component.getGenericType(), seen)) {
                        return true;
                    }
                }
            }
            for (Field field : k.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers()) || Modifier.isTransient(field.getModifiers())) {
                    continue;
                }
                if (field.isAnnotationPresent(JsonTypeInfo.class) || field.isAnnotationPresent(JsonDeserialize.class)
                        || valueMayChooseClasses(field.getGenericType(), seen)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean annotatedToChoose(Class<?> c) {
        return c.isAnnotationPresent(JsonTypeInfo.class) || c.isAnnotationPresent(JsonDeserialize.class);
    }

    private static boolean isJdk(Class<?> c) {
        String name = c.getName();
        return name.startsWith("java.") || name.startsWith("javax.");
    }

    /** JDK interfaces or abstract classes Jackson reads without a type id: {@code Number}, {@code CharSequence}. */
    private static boolean isJdkValueInterface(Class<?> c) {
        return c == Number.class || c == CharSequence.class || c == Comparable.class
                || c.getName().startsWith("java.time.");
    }
}
