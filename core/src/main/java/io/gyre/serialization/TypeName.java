package io.gyre.serialization;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The stable name under which an event or command type is stored and sent. Without it the name is the class
 * name without its package ({@code Account$Opened} for a nested class), which changes when the class is
 * renamed; give an explicit name to any type whose events are already stored before renaming it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface TypeName {

    /** @return the name; letters, digits and {@code . _ - $}, at most 200 characters */
    String value();
}
