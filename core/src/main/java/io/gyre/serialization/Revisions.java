package io.gyre.serialization;

/**
 * Reads {@link Revision} once per class: it is looked up for every event stored and read, so it must cost no
 * reflection on that path.
 */
final class Revisions {

    private static final ClassValue<Integer> REVISIONS = new ClassValue<>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            Revision revision = type.getAnnotation(Revision.class);
            if (revision == null) {
                return 0;
            }
            if (revision.value() < 0) {
                throw new IllegalArgumentException("@Revision of " + type.getName() + " must be 0 or more, but was "
                        + revision.value());
            }
            return revision.value();
        }
    };

    private Revisions() {
    }

    static int of(Class<?> type) {
        return REVISIONS.get(type);
    }
}
