package io.gyre.eventstore;

import io.gyre.eventstore.conformance.AppendAndReadConformanceTest;
import io.gyre.eventstore.conformance.AsyncAppendConformanceTest;
import io.gyre.eventstore.conformance.CommandDecisionsConformanceTest;
import io.gyre.eventstore.conformance.CommandFingerprintConformanceTest;
import io.gyre.eventstore.conformance.EventStoreFixture;
import io.gyre.eventstore.conformance.GlobalLogConformanceTest;
import org.junit.jupiter.api.Nested;

class InMemoryEventStoreConformanceTest {

    static EventStoreFixture fixture() {
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

    @Nested
    class AppendAndRead extends AppendAndReadConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return fixture();
        }
    }

    @Nested
    class AsyncAppend extends AsyncAppendConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return fixture();
        }
    }

    @Nested
    class CommandDecisions extends CommandDecisionsConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return fixture();
        }
    }

    @Nested
    class CommandFingerprints extends CommandFingerprintConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return fixture();
        }
    }

    @Nested
    class GlobalLog extends GlobalLogConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return fixture();
        }
    }
}
