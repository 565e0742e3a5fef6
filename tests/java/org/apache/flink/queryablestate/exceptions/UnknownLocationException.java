package org.apache.flink.queryablestate.exceptions;

import org.apache.flink.util.FlinkException;

/** Stand-in with Flink's name, superclass and serialVersionUID (PROTOCOL 3.1), for the interop test. */
public class UnknownLocationException extends FlinkException {
    private static final long serialVersionUID = 9092442511708951209L;

    public UnknownLocationException(String message) {
        super(message);
    }
}
