package io.gyre.serialization;

import io.gyre.Metadata;

/**
 * Converts registered events and commands to their stored form and back. Implementations must refuse any
 * type outside their {@link #types() registry} in both directions.
 */
public interface Serializer {

    /**
     * @param value an instance of a registered type
     * @return its type name and JSON text
     * @throws UnregisteredTypeException when the value's class is not registered
     * @throws SerializationException    when the value cannot be written
     */
    SerializedValue serialize(Object value);

    /**
     * @param serialized a type name and JSON text, typically from the store or the wire
     * @return a new instance of the registered class
     * @throws UnregisteredTypeException when the type name is not registered
     * @throws SerializationException    when the data does not fit the type
     */
    Object deserialize(SerializedValue serialized);

    /**
     * @param metadata metadata to store
     * @return a JSON object of strings
     */
    String serializeMetadata(Metadata metadata);

    /**
     * @param json a JSON object of strings
     * @return the metadata
     * @throws SerializationException when the text is not such an object
     */
    Metadata deserializeMetadata(String json);

    /** @return the allow-list this serializer enforces */
    TypeRegistry types();
}
