package io.gyre.processing;

import io.gyre.processing.conformance.DeadLetterStoreConformanceTest;
import io.gyre.processing.conformance.TokenStoreConformanceTest;
import org.junit.jupiter.api.Nested;

class InMemoryStoresConformanceTest {

    @Nested
    class Tokens extends TokenStoreConformanceTest {
        @Override
        protected TokenStore createStore() {
            return new InMemoryTokenStore();
        }
    }

    @Nested
    class DeadLetters extends DeadLetterStoreConformanceTest {
        @Override
        protected DeadLetterStore createStore() {
            return new InMemoryDeadLetterStore();
        }
    }
}
