package io.gyre.aggregate.internal;

import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * A digest of the serialized shape of an aggregate class: every field a snapshot holds (non-static,
 * non-transient, up the class hierarchy), by declaring class, name and generic type, and recursively the fields of
 * the application's own classes those types name (records by their components, enums by their constants). JDK
 * types count by name only. Any change there (a field renamed, retyped, added or removed, a nested record changed)
 * changes the digest, so a snapshot written by another version of the class is ignored instead of read into the
 * wrong shape. It cannot see a change of meaning with the same fields: that is what {@code @Revision} on the
 * aggregate is for. Internal: not part of Gyre's API.
 */
final class Shape {

    private Shape() {
    }

    /**
     * @param type an aggregate class
     * @return the digest, 32 hexadecimal digits
     */
    static String of(Class<?> type) {
        List<String> lines = new ArrayList<>();
        describe(type, lines, new HashSet<>());
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM, which every Java platform must have", e);
        }
    }

    private static void describe(Class<?> type, List<String> lines, Set<Class<?>> seen) {
        if (type.isPrimitive() || type.getName().startsWith("java.") || !seen.add(type)) {
            return;
        }
        if (type.isArray()) {
            describe(type.getComponentType(), lines, seen);
            return;
        }
        lines.add("class " + type.getName());
        if (type.isEnum()) {
            for (Object constant : type.getEnumConstants()) {
                lines.add("  constant " + constant);
            }
            return;
        }
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                field(component.getName(), component.getGenericType(), lines, seen);
            }
            return;
        }
        List<Class<?>> hierarchy = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            hierarchy.add(0, c);
        }
        for (Class<?> c : hierarchy) {
            // Sorted: the order of getDeclaredFields() is not specified, and must not change the digest.
            List<Field> fields = new ArrayList<>(List.of(c.getDeclaredFields()));
            fields.sort(java.util.Comparator.comparing(Field::getName));
            for (Field field : fields) {
                int modifiers = field.getModifiers();
                if (!Modifier.isStatic(modifiers) && !Modifier.isTransient(modifiers) && !field.isSynthetic()) {
                    field(c.getName() + "." + field.getName(), field.getGenericType(), lines, seen);
                }
            }
        }
    }

    private static void field(String name, Type type, List<String> lines, Set<Class<?>> seen) {
        lines.add("  " + name + ": " + type.getTypeName());
        List<Class<?>> named = new ArrayList<>();
        classesIn(type, named);
        for (Class<?> each : named) {
            describe(each, lines, seen);
        }
    }

    private static void classesIn(Type type, List<Class<?>> into) {
        if (type instanceof Class<?> c) {
            into.add(c);
        } else if (type instanceof ParameterizedType parameterized) {
            classesIn(parameterized.getRawType(), into);
            for (Type argument : parameterized.getActualTypeArguments()) {
                classesIn(argument, into);
            }
        } else if (type instanceof GenericArrayType array) {
            classesIn(array.getGenericComponentType(), into);
        } else if (type instanceof WildcardType wildcard) {
            for (Type bound : wildcard.getUpperBounds()) {
                classesIn(bound, into);
            }
        }
    }
}
