package io.gyre.command.scenarios;

import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.conformance.EventStoreFixture;

/** Reused command ids on the in-memory store. */
class InMemoryCommandIdReuseTest extends CommandIdReuseScenarios {

    @Override
    protected EventStoreFixture createFixture() {
        InMemoryEventStore store = new InMemoryEventStore();
        return new EventStoreFixture() {
            @Override
            public EventStore store() {
                return store;
            }

            @Override
            public boolean durable() {
                return false;
            }

            @Override
            public void close() {
                store.close();
            }
        };
    }
}
