package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.conformance.AppendAndReadConformanceTest;
import io.gyre.eventstore.conformance.AsyncAppendConformanceTest;
import io.gyre.eventstore.conformance.CommandDecisionsConformanceTest;
import io.gyre.eventstore.conformance.CommandFingerprintConformanceTest;
import io.gyre.eventstore.conformance.EventStoreFixture;
import io.gyre.eventstore.conformance.GlobalLogConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

class H2EventStoreConformanceTest {

    @TempDir
    Path folder;

    @Nested
    class AppendAndRead extends AppendAndReadConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.h2(folder);
        }
    }

    @Nested
    class AsyncAppend extends AsyncAppendConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.h2(folder);
        }
    }

    @Nested
    class CommandDecisions extends CommandDecisionsConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.h2(folder);
        }
    }

    @Nested
    class CommandFingerprints extends CommandFingerprintConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.h2(folder);
        }
    }

    @Nested
    class GlobalLog extends GlobalLogConformanceTest {
        @Override
        protected EventStoreFixture createFixture() {
            return JdbcFixtures.h2(folder);
        }

        @Override
        protected EventStoreFixture createTailingFixture() {
            return JdbcFixtures.h2WithRandomRollbacks(folder);
        }
    }
}
