package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.conformance.AppendAndReadConformanceTest;
import io.gyre.eventstore.conformance.AsyncAppendConformanceTest;
import io.gyre.eventstore.conformance.CommandDecisionsConformanceTest;
import io.gyre.eventstore.conformance.CommandFingerprintConformanceTest;
import io.gyre.eventstore.conformance.EventStoreFixture;
import io.gyre.eventstore.conformance.GlobalLogConformanceTest;
import org.junit.jupiter.api.Nested;

class PostgresEventStoreConformanceTest {

    @Nested
    class AppendAndRead extends AppendAndReadConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.postgres();
        }
    }

    @Nested
    class AsyncAppend extends AsyncAppendConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.postgres();
        }
    }

    @Nested
    class CommandDecisions extends CommandDecisionsConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.postgres();
        }
    }

    @Nested
    class CommandFingerprints extends CommandFingerprintConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.postgres();
        }
    }

    @Nested
    class GlobalLog extends GlobalLogConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.postgres();
        }

        @Override
        protected EventStoreFixture createTailingFixture() {
            return JdbcFixtures.postgresWithRandomRollbacks();
        }
    }
}
