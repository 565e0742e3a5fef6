package org.apache.flink.util;

/** Stand-in with Flink's name, superclass and serialVersionUID (PROTOCOL 3.1), for the interop test. */
public class FlinkException extends Exception {
    private static final long serialVersionUID = 450688772469004724L;

    public FlinkException(String message) {
        super(message);
    }
}
