package io.piimage.cli;

/** Runs the CLI in-process for tests of other packages (status, ...). */
public final class CliRunner {

    private CliRunner() {
    }

    public record Run(int exitCode, String out, String err) {
    }

    public static Run piimage(String... args) {
        CliTest.Run run = CliTest.piimage(args);
        return new Run(run.exitCode(), run.out(), run.err());
    }
}
