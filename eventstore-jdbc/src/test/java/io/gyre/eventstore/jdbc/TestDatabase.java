package io.gyre.eventstore.jdbc;

import java.nio.file.Path;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * One test's database, closed after the test: an H2 file in the test's temporary folder, or new tables in the
 * test PostgreSQL server, dropped at close. Lets a scenario run on both databases with a one-line subclass each.
 */
abstract class TestDatabase implements AutoCloseable {

    abstract DataSource dataSource();

    abstract TableNames tables();

    abstract boolean postgres();

    @Override
    public abstract void close();

    /**
     * @param folder the test's temporary folder
     * @return a pooled H2 database in it, with the default table names
     */
    static TestDatabase onH2(Path folder) {
        JdbcConnectionPool pool = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath()
                + ";LOCK_TIMEOUT=10000", "sa", "");
        return new TestDatabase() {
            @Override
            DataSource dataSource() {
                return pool;
            }

            @Override
            TableNames tables() {
                return TableNames.defaults();
            }

            @Override
            boolean postgres() {
                return false;
            }

            @Override
            public void close() {
                pool.dispose();
            }
        };
    }

    /** @return tables no other test uses in the test PostgreSQL server */
    static TestDatabase onPostgres() {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = JdbcFixtures.randomTables();
        return new TestDatabase() {
            @Override
            DataSource dataSource() {
                return dataSource;
            }

            @Override
            TableNames tables() {
                return tables;
            }

            @Override
            boolean postgres() {
                return true;
            }

            @Override
            public void close() {
                JdbcFixtures.drop(dataSource, tables);
            }
        };
    }
}
