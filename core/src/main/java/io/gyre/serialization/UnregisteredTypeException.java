package io.gyre.serialization;

import io.gyre.GyreNonTransientException;

/**
 * A class or a type name that is not on the serialization allow-list: an event applied by an aggregate whose
 * type was never registered, or stored or received data naming a type this node does not know.
 */
public class UnregisteredTypeException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the type and says how to register it
     */
    public UnregisteredTypeException(String message) {
        super(message);
    }
}
