package io.gyre.eventstore.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * A data source that takes over the commit of the store's event inserts, whether an append commits them alone or
 * a group of appends commits them together: it can hold one transaction between its inserts and its commit (a
 * transaction that commits late) and make it roll back instead, or delay and roll back transactions at random. The store's own code runs unchanged; only the database sees slower or failed
 * transactions, as under real load.
 */
final class CommitControl extends ForwardingDataSource {

    private final String eventsTable;
    private volatile Hold hold;
    private volatile double rollbackProbability;
    private volatile int maxDelayMillis;
    private final java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();

    CommitControl(DataSource delegate, String eventsTable) {
        super(delegate);
        this.eventsTable = eventsTable;
    }

    /** One insert to hold: it signals {@code inserted}, waits for {@code release}, then commits or not. */
    static final class Hold {
        final CountDownLatch inserted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final boolean commit;

        Hold(boolean commit) {
            this.commit = commit;
        }
    }

    /**
     * @param commit whether the held insert commits in the end
     * @return the hold on the next insert
     */
    Hold holdNextInsert(boolean commit) {
        Hold next = new Hold(commit);
        hold = next;
        return next;
    }

    /** @return transactions with event inserts committed so far, alone or in a group */
    int commits() {
        return commits.get();
    }

    /**
     * @param probability share of inserts rolled back after executing
     * @param delayMillis longest random delay between executing and committing
     */
    void randomly(double probability, int delayMillis) {
        this.rollbackProbability = probability;
        this.maxDelayMillis = delayMillis;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection real = delegate.getConnection();
        // Set when event inserts ran inside a transaction the store commits itself (a group of appends).
        AtomicBoolean insertsToCommit = new AtomicBoolean();
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("commit") && insertsToCommit.getAndSet(false)) {
                        finish(real);
                        return null;
                    }
                    if (method.getName().equals("rollback") && args == null) {
                        insertsToCommit.set(false);
                    }
                    Object result = invoke(real, method, args);
                    // Event rows are inserted alone, or (PostgreSQL) after a command row in a WITH clause.
                    if (method.getName().equals("prepareStatement") && args != null && args.length == 1
                            && ((String) args[0]).contains("INSERT INTO " + eventsTable + " ")) {
                        return controlled(real, (PreparedStatement) result, insertsToCommit);
                    }
                    return result;
                });
    }

    private PreparedStatement controlled(Connection connection, PreparedStatement statement,
                                         AtomicBoolean insertsToCommit) {
        InvocationHandler handler = (proxy, method, args) -> {
            boolean execution = args == null
                    && (method.getName().equals("executeUpdate") || method.getName().equals("executeBatch"));
            if (!execution) {
                return invoke(statement, method, args);
            }
            if (!connection.getAutoCommit()) {
                Object result = invoke(statement, method, args);
                insertsToCommit.set(true);
                return result;
            }
            connection.setAutoCommit(false);
            try {
                Object result = invoke(statement, method, args);
                finish(connection);
                return result;
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        };
        return (PreparedStatement) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PreparedStatement.class}, handler);
    }

    /** Commits executed event inserts now, later, or not at all, as the test asked. */
    private void finish(Connection connection) throws SQLException, InterruptedException {
        Hold held = hold;
        if (held != null) {
            hold = null;
        }
        boolean rollback = held != null ? !held.commit
                : ThreadLocalRandom.current().nextDouble() < rollbackProbability;
        int delay = held == null && maxDelayMillis > 0 ? ThreadLocalRandom.current().nextInt(maxDelayMillis + 1) : 0;
        if (held != null) {
            held.inserted.countDown();
            if (!held.release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("held insert was never released");
            }
        } else if (delay > 0) {
            Thread.sleep(delay);
        }
        if (rollback) {
            connection.rollback();
            throw new SQLException("rolled back by the test", "40001");
        }
        connection.commit();
        commits.incrementAndGet();
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

}
