package io.piimage.pki;

/** The secrets directory cannot be used as it is; the message says why and what to do. */
public final class SecretsException extends Exception {
    public SecretsException(String message) {
        super(message);
    }

    public SecretsException(String message, Throwable cause) {
        super(message, cause);
    }
}
