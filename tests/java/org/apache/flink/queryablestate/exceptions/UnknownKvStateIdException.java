package org.apache.flink.queryablestate.exceptions;

import org.apache.flink.queryablestate.network.BadRequestException;

/** Stand-in with Flink's name, superclass and serialVersionUID (PROTOCOL 3.1), for the interop test. */
public class UnknownKvStateIdException extends BadRequestException {
    private static final long serialVersionUID = 1L;

    public UnknownKvStateIdException(String serverName, String message) {
        super(serverName, message);
    }
}
