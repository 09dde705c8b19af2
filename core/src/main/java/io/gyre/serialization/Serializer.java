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
     * Reads a stored event written at some revision of its class, first rewriting it to the class's current
     * {@link Revision} when it is older. Every place that reads stored events (loading an aggregate, event
     * processors, the test fixture) goes through here. This default knows no upcasters: it reads an event stored
     * at the current revision and refuses any other.
     *
     * @param serialized a type name and JSON text from the store
     * @param revision   the revision the event was stored at
     * @return a new instance of the registered class
     * @throws UnregisteredTypeException when the type name is not registered
     * @throws UpcastingException        when the event cannot be brought to the current revision
     * @throws SerializationException    when the data does not fit the type
     */
    default Object deserialize(SerializedValue serialized, int revision) {
        int current = revisionOf(types().classOf(serialized.type()));
        if (revision != current) {
            throw new UpcastingException(serialized.type(), revision, "Event type '" + serialized.type()
                    + "' stored at revision " + revision + " cannot be read by this serializer, which knows no "
                    + "upcasters; its class is at revision " + current, null);
        }
        return deserialize(serialized);
    }

    /**
     * @param type a registered class
     * @return the revision its values are stored at: its {@link Revision}, else 0
     */
    default int revisionOf(Class<?> type) {
        return Upcasters.revisionOf(type);
    }

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
