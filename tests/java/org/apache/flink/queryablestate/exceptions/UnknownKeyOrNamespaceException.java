package org.apache.flink.queryablestate.exceptions;

import org.apache.flink.queryablestate.network.BadRequestException;

/** Stand-in with Flink's name, superclass and serialVersionUID (PROTOCOL 3.1), for the interop test. */
public class UnknownKeyOrNamespaceException extends BadRequestException {
    private static final long serialVersionUID = 1L;

    public UnknownKeyOrNamespaceException(String serverName, String message) {
        super(serverName, message);
    }
}
