package io.gyre.serialization;

import java.util.Objects;

/**
 * A value in its stored form.
 *
 * @param type the registered type name
 * @param data the value as JSON text
 */
public record SerializedValue(String type, String data) {

    /** Checks both parts are present. */
    public SerializedValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
    }
}
