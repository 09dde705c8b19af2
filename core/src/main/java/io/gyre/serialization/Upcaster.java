package io.gyre.serialization;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Rewrites a stored event from one revision of its class to the next, as a Jackson tree. Registered with
 * {@code Gyre.builder().upcaster(EventClass.class, fromRevision, upcaster)}; an event stored at revision r is
 * passed through the upcasters from r, r + 1, ... up to the class's current {@link Revision}, in that order, and
 * only then read as the class. Stored events are never changed: upcasting happens each time an event is read
 * (loading an aggregate, event processors).
 *
 * <pre>{@code
 * // Revision 1 of Deposited split "amount" (a decimal string) into "cents" (a long).
 * .upcaster(Deposited.class, 0, json -> json.put("cents", new BigDecimal(json.remove("amount").asText())
 *         .movePointRight(2).longValueExact()))
 * }</pre>
 *
 * <p>An upcaster must be a pure function of its input (it runs on every read, on any node, in any thread). It may
 * change the node it is given and return it, or return a new one.
 */
@FunctionalInterface
public interface Upcaster {

    /**
     * @param event the event's JSON at the upcaster's revision
     * @return the event's JSON at the next revision; never null
     */
    ObjectNode upcast(ObjectNode event);
}
