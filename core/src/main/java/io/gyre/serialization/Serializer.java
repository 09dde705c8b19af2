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
     * Converts a value that is about to be stored, and reads it back once to prove it can be: a value that could
     * be stored but never sourced again (a class without a usable constructor, an unregistered class named inside
     * it) is refused before anything is stored, instead of breaking its aggregate for good.
     *
     * @param value an instance of a registered type
     * @return its type name and JSON text
     * @throws UnregisteredTypeException when the value's class, or a class named inside it, is not registered
     * @throws SerializationException    when the value cannot be written, or not read back
     */
    default SerializedValue serializeForStorage(Object value) {
        SerializedValue serialized = serialize(value);
        try {
            deserialize(serialized);
        } catch (SerializationException | UnregisteredTypeException e) {
            throw new SerializationException("A " + value.getClass().getName() + " ('" + serialized.type()
                    + "') can be written but not read back, so it is refused before it is stored: " + e.getMessage(),
                    e);
        }
        return serialized;
    }

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
