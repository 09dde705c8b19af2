package io.gyre.eventstore.jdbc.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.Set;

/**
 * The connection a transactional processor hands its handlers: the transaction's own, except that the calls that
 * would end or escape the transaction ({@code commit}, {@code rollback}, {@code setAutoCommit}, {@code close},
 * {@code abort}) are refused, since the processor commits the handlers' writes together with the token. Internal:
 * not part of Gyre's API.
 */
final class GuardedConnection {

    private static final Set<String> REFUSED = Set.of("commit", "rollback", "setAutoCommit", "close", "abort");

    private GuardedConnection() {
    }

    /**
     * @param connection the transaction's connection
     * @return a connection that refuses to end the transaction
     */
    static Connection of(Connection connection) {
        return (Connection) Proxy.newProxyInstance(GuardedConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    String name = method.getName();
                    if (REFUSED.contains(name) && !(name.equals("rollback") && args != null && args.length == 1)) {
                        throw new IllegalStateException("An event handler called Connection." + name + "() on the "
                                + "connection of a transactional processor; the processor commits the handler's "
                                + "writes together with its token, so a handler must not end the transaction (a "
                                + "savepoint and rollback(savepoint) are fine)");
                    }
                    try {
                        return method.invoke(connection, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
