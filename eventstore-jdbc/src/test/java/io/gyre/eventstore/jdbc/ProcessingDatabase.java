package io.gyre.eventstore.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * A test database for processors: a {@link TestDatabase} (an H2 file, or new PostgreSQL tables) with a processing
 * store and, at close, its dead-letter table and any read model tables dropped too.
 */
final class ProcessingDatabase implements AutoCloseable {

    private final TestDatabase database;
    private final String[] extraTables;

    private ProcessingDatabase(TestDatabase database, String... extraTables) {
        this.database = database;
        this.extraTables = extraTables;
    }

    static ProcessingDatabase onH2(Path folder, String... extraTables) {
        return new ProcessingDatabase(TestDatabase.onH2(folder), extraTables);
    }

    static ProcessingDatabase onPostgres(String... extraTables) {
        return new ProcessingDatabase(TestDatabase.onPostgres(), extraTables);
    }

    DataSource dataSource() {
        return database.dataSource();
    }

    TableNames tables() {
        return database.tables();
    }

    boolean postgres() {
        return database.postgres();
    }

    /** @return the dead-letter table of {@link #processingStore()} */
    String deadLetterTable() {
        return tables().tokens().replace("tokens", "dead_letters");
    }

    /** @return a processing store on this database's tables, creating them */
    JdbcProcessingStore processingStore() {
        return JdbcProcessingStore.builder(dataSource()).tableNames(tables()).createSchema(true).build();
    }

    /** @return an event store on this database's tables, creating them */
    JdbcEventStore eventStore() {
        return JdbcEventStore.builder(dataSource()).tableNames(tables()).createSchema(true).build();
    }

    @Override
    public void close() {
        if (database.postgres()) {
            try (Connection connection = dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("DROP TABLE IF EXISTS " + deadLetterTable());
                for (String table : extraTables) {
                    statement.execute("DROP TABLE IF EXISTS " + table);
                }
            } catch (SQLException e) {
                throw new IllegalStateException("Dropping test tables failed", e);
            }
        }
        database.close();
    }
}
