package io.gyre.eventstore.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** Data sources that decorate a real one for a test. */
final class JdbcTestDataSources {

    private JdbcTestDataSources() {
    }

    /**
     * @param delegate the real data source
     * @param taken    counts every call of {@code getConnection}, successful or not
     * @return the delegate, counted
     */
    static DataSource counting(DataSource delegate, AtomicInteger taken) {
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        taken.incrementAndGet();
                    }
                    if (method.getName().equals("toString")) {
                        return "counted " + delegate;
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
