package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one place that turns what a command throws into a message and an exit code, for every command:
 * {@link Main#OK} 0, {@link Main#INVALID_INPUT} 1 (a plan with errors, a refused file, a failed bake),
 * {@link Main#USAGE} 2 (an unknown option, a missing argument, an option value that does not parse).
 * Anything else is a bug: it says so, prints the trace and asks for a report. A command therefore
 * throws instead of printing and returning a code; see {@link PlanArgument} for the plan.
 */
final class FrontDoor implements IExecutionExceptionHandler, IParameterExceptionHandler {

    /** Installs the handlers (and the option converters) on {@code commandLine} and its subcommands. */
    static CommandLine install(CommandLine commandLine) {
        FrontDoor door = new FrontDoor();
        commandLine.setExecutionExceptionHandler(door);
        commandLine.setParameterExceptionHandler(door);
        Converters.register(commandLine);
        return commandLine;
    }

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("piimage: usage error: " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("try '" + cmd.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return Main.USAGE;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        try {
            return report(e, err);
        } finally {
            err.flush();
        }
    }

    static int report(Exception e, PrintWriter err) {
        if (e instanceof InvalidPlanException invalid) {
            invalid.diagnostics().forEach(d -> err.println(d.format()));
            err.printf("piimage: %d error(s); nothing was written%n", invalid.diagnostics().stream().filter(Diagnostic::isError).count());
        } else if (e instanceof Refusal refusal) {
            err.println("piimage: error: " + refusal.getMessage());
        } else if (e instanceof BakeException bake) {
            err.println("piimage: error: " + bake.getMessage());
            err.println("piimage: " + (bake.written() == null ? "nothing was written" : bake.written()));
        } else if (e instanceof IOException io) {
            err.println("piimage: error: " + BakeException.describe(io));
            err.println("piimage: nothing was written");
        } else if (e instanceof UncheckedIOException io) {
            // Some library wrappers put the whole cause in the message ("java.nio.file...: x"); say it in words then.
            err.println("piimage: error: " + (io.getMessage() != null && !io.getMessage().startsWith("java.")
                    ? io.getMessage() : BakeException.describe(io.getCause())));
            err.println("piimage: nothing was written");
        } else {
            err.println("piimage: internal error: " + e);
            e.printStackTrace(err);
            err.println("piimage: this is a bug in piimage, not a problem with your input or files; please report it"
                    + " with the command line, the output above and `piimage --version`");
        }
        return Main.INVALID_INPUT;
    }
}
