package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {

    @Test
    void a_duplicate_key_is_recognised_wherever_the_driver_puts_it() {
        assertThat(SqlErrors.isUniqueViolation(new SQLException("duplicate key", "23505"))).isTrue();

        // PostgreSQL's driver reports a failed batch entry as the next exception of a BatchUpdateException.
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 was aborted", "23505", new int[0]);
        batch.setNextException(new SQLException("duplicate key value violates unique constraint", "23505"));
        assertThat(SqlErrors.isUniqueViolation(batch)).isTrue();
        BatchUpdateException wrapped = new BatchUpdateException("Batch entry 0 was aborted", null, new int[0]);
        wrapped.setNextException(new SQLException("duplicate key value violates unique constraint", "23505"));
        assertThat(SqlErrors.isUniqueViolation(wrapped)).as("only the next exception carries the state").isTrue();
        assertThat(SqlErrors.isUniqueViolation(new SQLException("outer", "08006",
                new SQLException("cause", "23505")))).as("in the cause chain").isTrue();

        assertThat(SqlErrors.isUniqueViolation(new SQLException("not null", "23502"))).isFalse();
        assertThat(SqlErrors.isUniqueViolation(new SQLException("no state"))).isFalse();
    }

    @Test
    void a_lost_connection_or_server_is_told_from_a_refused_statement() {
        assertThat(SqlErrors.isConnectionFailure(new SQLException("connection reset", "08006"))).isTrue();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("terminating connection", "57P01"))).isTrue();
        assertThat(SqlErrors.isConnectionFailure(new SQLRecoverableException("socket closed"))).isTrue();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("outer", null,
                new SQLException("cause", "08003")))).as("in the cause chain").isTrue();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("index row too large", "54000"))).isFalse();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("statement timeout", "57014"))).isFalse();
        assertThat(SqlErrors.isConnectionFailure(new SQLException("no state"))).isFalse();
    }

    @Test
    void a_server_refusing_the_login_or_the_database_is_found_under_a_pools_timeout() {
        SQLException server = new SQLException("FATAL: password authentication failed for user \"app\"", "28P01");
        SQLException pool = new java.sql.SQLTransientConnectionException("Connection is not available", "28P01",
                server);
        assertThat((Object) SqlErrors.refusedLogin(pool)).as("the server's own, not the pool's copy").isSameAs(server);
        assertThat((Object) SqlErrors.refusedLogin(new SQLException("database \"x\" does not exist", "3D000"))).isNotNull();
        assertThat((Object) SqlErrors.refusedLogin(new SQLException("role \"x\" does not exist", "28000"))).isNotNull();
        assertThat((Object) SqlErrors.refusedLogin(new SQLException("connection refused", "08001"))).isNull();
        assertThat((Object) SqlErrors.refusedLogin(new SQLException("the database system is starting up", "57P03"))).isNull();
        assertThat((Object) SqlErrors.refusedLogin(new SQLException("no state"))).isNull();
    }

    @Test
    void failures_are_classified_transient_or_not_and_keep_their_sql_state() {
        assertThat(SqlErrors.translate("Appending", new SQLException("connection refused", "08001")))
                .isInstanceOfSatisfying(JdbcEventStoreException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08001");
                    assertThat(e.getMessage()).contains("Appending").contains("08001").contains("connection refused");
                });
        for (String state : new String[] {"08006", "57P01", "40001", "40P01", "53300", "55P03"}) {
            assertThat(GyreTransientException.isCauseOf(SqlErrors.translate("op", new SQLException("x", state))))
                    .as(state).isTrue();
        }
        assertThat(SqlErrors.translate("op", new SQLRecoverableException("socket closed")))
                .isInstanceOf(JdbcEventStoreException.class);
        assertThat(SqlErrors.translate("op", new SQLException("relation does not exist", "42P01")))
                .isInstanceOf(EventStoreSchemaException.class).hasMessageContaining("42P01");
        assertThat(SqlErrors.translate("op", new SQLException("invalid input syntax for type json", "22P02")))
                .isInstanceOf(EventRejectedException.class).hasMessageContaining("22P02");
        assertThat(SqlErrors.translate("op", new SQLException("null value in column", "23502")))
                .isInstanceOf(EventRejectedException.class);
    }

    @Test
    void data_refused_for_its_size_is_non_transient_and_never_retried() {
        for (String state : new String[] {"54000", "54001", "22001"}) {
            SQLException refused = new SQLException("index row size 12016 exceeds btree version 4 maximum 2704",
                    state);
            assertThat(SqlErrors.translate("Appending 1 event(s) of command c to Account 'a'", refused)).as(state)
                    .isInstanceOf(EventRejectedException.class)
                    .hasMessageContaining("refused the data").hasMessageContaining(state)
                    .satisfies(e -> assertThat(GyreNonTransientException.isCauseOf(e)).isTrue())
                    .hasCause(refused);
        }
        assertThat(GyreTransientException.isCauseOf(SqlErrors.translate("op",
                new SQLException("disk full", "53100")))).as("out of resources: a retry can help").isTrue();
    }
}
