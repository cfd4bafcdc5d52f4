package io.piimage.cli;

/**
 * Input a command refuses (a file that exists without --force, a directory that cannot be written):
 * the front door prints "piimage: error: MESSAGE" and exits 1. Option values that do not parse are
 * picocli ParameterExceptions instead (exit 2).
 */
final class Refusal extends RuntimeException {

    Refusal(String message) {
        super(message);
    }

    Refusal(String message, Throwable cause) {
        super(message, cause);
    }
}
