package io.gyre.routing.jgroups;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/** Finds the threads of this JVM that wait inside a socket write: for tests with a member that stopped reading. */
final class SocketWriters {

    private SocketWriters() {
    }

    /**
     * @param writers true for the threads whose job it is to wait there (an outbox thread, a JGroups connection's own
     *                writer thread); false for every other thread
     * @return those threads inside a socket write (or waiting for a connection's send lock), each with its stack
     */
    static Map<String, String> blockedOnSocket(boolean writers) {
        Map<String, String> found = new TreeMap<>();
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            boolean writing = Arrays.stream(info.getStackTrace()).anyMatch(frame ->
                    frame.getMethodName().startsWith("write") && (frame.getClassName().contains("SocketDispatcher")
                            || frame.getClassName().contains("SocketChannelImpl")
                            || frame.getClassName().contains("NioSocketImpl"))
                    || frame.getClassName().equals("org.jgroups.blocks.cs.TcpConnection")
                            && frame.getMethodName().equals("send"));
            if (!writing || info.getThreadState() == Thread.State.RUNNABLE && !isInWrite(info)) {
                continue;
            }
            boolean writer = info.getThreadName().startsWith("gyre-outbox-") || Arrays.stream(info.getStackTrace())
                    .anyMatch(frame -> frame.getClassName().equals("org.jgroups.blocks.cs.TcpConnectionNonBlocking")
                            && frame.getMethodName().equals("run"));
            if (writer == writers) {
                found.put(info.getThreadName(), info.getThreadState() + " at "
                        + Arrays.stream(info.getStackTrace()).limit(14).map(StackTraceElement::toString).toList());
            }
        }
        return found;
    }

    /** @return every thread inside a socket write, whatever its job */
    static Map<String, String> all() {
        Map<String, String> found = blockedOnSocket(true);
        found.putAll(blockedOnSocket(false));
        return found;
    }

    private static boolean isInWrite(ThreadInfo info) {
        StackTraceElement[] stack = info.getStackTrace();
        return stack.length > 0 && (stack[0].getMethodName().startsWith("write") || stack[0].getMethodName()
                .startsWith("poll"));
    }
}
