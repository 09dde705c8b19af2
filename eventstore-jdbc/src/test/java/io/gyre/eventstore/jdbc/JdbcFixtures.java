package io.gyre.eventstore.jdbc;

import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.conformance.EventStoreFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.function.Supplier;
import javax.sql.DataSource;

/** Fixtures that hand the conformance suites a fresh JDBC store: its own H2 file, or its own PostgreSQL tables. */
final class JdbcFixtures {

    private JdbcFixtures() {
    }

    /**
     * @param folder a temporary folder
     * @return a fixture on a new H2 file in it
     */
    static EventStoreFixture h2(Path folder) {
        Path file = folder.resolve("events-" + UUID.randomUUID());
        return durable(() -> JdbcEventStore.h2(file), () -> { });
    }

    /** @return a fixture on new tables in the test PostgreSQL server */
    static EventStoreFixture postgres() {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = randomTables();
        JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
        return durable(() -> JdbcEventStore.builder(dataSource).tableNames(tables).build(),
                () -> drop(dataSource, tables));
    }

    /** A fixture whose store is opened again over the same data on {@link EventStoreFixture#reopen()}. */
    private static EventStoreFixture durable(Supplier<JdbcEventStore> open, Runnable cleanup) {
        return new EventStoreFixture() {
            private JdbcEventStore store = open.get();

            @Override
            public EventStore store() {
                return store;
            }

            @Override
            public boolean durable() {
                return true;
            }

            @Override
            public EventStore reopen() {
                store.close();
                store = open.get();
                return store;
            }

            @Override
            public void close() {
                store.close();
                cleanup.run();
            }
        };
    }

    /**
     * @param folder a temporary folder
     * @return a fixture on a new H2 file whose event inserts roll back (15%) or commit late at random
     */
    static EventStoreFixture h2WithRandomRollbacks(Path folder) {
        org.h2.jdbcx.JdbcConnectionPool pool = org.h2.jdbcx.JdbcConnectionPool.create(
                "jdbc:h2:file:" + folder.resolve("events-" + UUID.randomUUID()).toAbsolutePath(), "sa", "");
        pool.setMaxConnections(32);
        return randomRollbacks(pool, TableNames.defaults(), pool::dispose);
    }

    /** @return a fixture on new PostgreSQL tables whose event inserts roll back or commit late at random */
    static EventStoreFixture postgresWithRandomRollbacks() {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = randomTables();
        return randomRollbacks(dataSource, tables, () -> drop(dataSource, tables));
    }

    private static EventStoreFixture randomRollbacks(DataSource dataSource, TableNames tables, Runnable cleanup) {
        CommitControl control = new CommitControl(dataSource, tables.events());
        control.randomly(0.15, 3);
        JdbcEventStore store = JdbcEventStore.builder(control).tableNames(tables).createSchema(true).build();
        return new EventStoreFixture() {
            @Override
            public EventStore store() {
                return store;
            }

            @Override
            public boolean durable() {
                // Durable in fact, but not reopened: the suites' restart tests run on the plain fixtures.
                return false;
            }

            @Override
            public void close() {
                store.close();
                cleanup.run();
            }
        };
    }

    /** @return table names no other test uses */
    static TableNames randomTables() {
        return TableNames.withPrefix("t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "_");
    }

    static void drop(DataSource dataSource, TableNames tables) {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            for (String table : new String[] {tables.events(), tables.commands(), tables.snapshots(), tables.tokens(),
                    tables.schemaHistory()}) {
                statement.execute("DROP TABLE IF EXISTS " + table);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Dropping test tables failed", e);
        }
    }
}
