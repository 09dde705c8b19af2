package io.gyre.serialization;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The revision of a class's stored shape. Raise it when the JSON of the class changes in a way that older stored
 * data no longer fits.
 *
 * <ul>
 *   <li>On an <b>event</b> class: every event is stored with the revision of its class, and an event stored at an
 *       older revision is rewritten to the current shape by the {@link Upcaster upcasters} registered for it
 *       ({@code Gyre.builder().upcaster(...)}), one revision at a time, before it is read. An event class without
 *       this annotation is at revision 0, as is every event stored before Gyre kept revisions; its first change
 *       that needs an upcaster is {@code @Revision(1)} with an upcaster from revision 0.</li>
 *   <li>On an <b>aggregate</b> class: a snapshot of the aggregate is used only by a class of the same revision (and
 *       the same field shape, which Gyre checks by itself). Raise it when the meaning of the state changes while its
 *       fields do not (a balance now in cents), so that older snapshots are ignored and the aggregate is loaded from
 *       its events.</li>
 * </ul>
 * Adding or removing a field of an event needs no new revision: unknown properties are ignored and missing ones
 * take their Java default.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Revision {

    /** @return the revision, 0 or more; classes without the annotation are at 0 */
    int value();
}
