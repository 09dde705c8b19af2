package io.gyre.eventstore.jdbc;

import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.ProcessingTransactions;
import io.gyre.processing.TokenStore;
import io.gyre.processing.conformance.DeadLetterStoreConformanceTest;
import io.gyre.processing.conformance.ProcessingTransactionsConformanceTest;
import io.gyre.processing.conformance.TokenStoreConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The processing store passes the token, dead-letter store and transactions kits on H2 and on PostgreSQL. */
class ProcessingStoreConformanceTest {

    @TempDir
    Path folder;

    private ProcessingDatabase database;

    private JdbcProcessingStore open(boolean postgres) {
        database = postgres ? ProcessingDatabase.onPostgres() : ProcessingDatabase.onH2(folder);
        return database.processingStore();
    }

    @Nested
    class TokensOnH2 extends TokenStoreConformanceTest {
        @Override
        protected TokenStore createStore() {
            return open(false);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }

    @Nested
    class TokensOnPostgres extends TokenStoreConformanceTest {
        @Override
        protected TokenStore createStore() {
            return open(true);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }

    @Nested
    class DeadLettersOnH2 extends DeadLetterStoreConformanceTest {
        @Override
        protected DeadLetterStore createStore() {
            return open(false);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }

    @Nested
    class DeadLettersOnPostgres extends DeadLetterStoreConformanceTest {
        @Override
        protected DeadLetterStore createStore() {
            return open(true);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }

    @Nested
    class TransactionsOnH2 extends ProcessingTransactionsConformanceTest {
        @Override
        protected ProcessingTransactions createStore() {
            return open(false);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }

    @Nested
    class TransactionsOnPostgres extends ProcessingTransactionsConformanceTest {
        @Override
        protected ProcessingTransactions createStore() {
            return open(true);
        }

        @Override
        protected void closeStore() {
            database.close();
        }
    }
}
