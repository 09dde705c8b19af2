package io.gyre.testmodel;

/** Events of the {@link Counter} test aggregate. */
public final class CounterEvents {

    private CounterEvents() {
    }

    /** @param id the counter */
    public record CounterCreated(String id) {
    }

    /**
     * @param id     the counter
     * @param amount what was added
     */
    public record Added(String id, long amount) {
    }

    /** An event type no handler names, so it is not registered. @param id the counter */
    public record NotRegistered(String id) {
    }
}
