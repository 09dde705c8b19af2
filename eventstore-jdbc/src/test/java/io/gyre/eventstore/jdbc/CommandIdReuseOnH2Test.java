package io.gyre.eventstore.jdbc;

import io.gyre.command.scenarios.CommandIdReuseScenarios;
import io.gyre.eventstore.conformance.EventStoreFixture;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Reused command ids on the embedded H2 store, through a node's gateway. */
class CommandIdReuseOnH2Test extends CommandIdReuseScenarios {

    @TempDir
    Path folder;

    @Override
    protected EventStoreFixture createFixture() {
        return JdbcFixtures.h2(folder);
    }
}
