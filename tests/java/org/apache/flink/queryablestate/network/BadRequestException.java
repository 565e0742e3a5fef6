package org.apache.flink.queryablestate.network;

/** Stand-in with Flink's name, superclass and serialVersionUID (PROTOCOL 3.1), for the interop test. */
public class BadRequestException extends Exception {
    private static final long serialVersionUID = 3458743952407632903L;

    public BadRequestException(String serverName, String message) {
        super(serverName + " : " + message);
    }
}
