package io.piimage.cli;

import io.piimage.pipeline.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code piimage}: the command-line entry point. Exit codes: 0 success, 1 invalid input or failure, 2 usage. */
@Command(
        name = "piimage",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "Bakes one Kubernetes cluster plan into Raspberry Pi SD-card contents that assemble "
                + "themselves into a highly available cluster on first boot.",
        subcommands = {InitCommand.class, CheckCommand.class, BakeCommand.class, StatusCommand.class, WaitCommand.class,
            KubeconfigCommand.class, SnapshotCommand.class, RenewCommand.class, DiagramCommand.class, ImagesCommand.class, SchemaCommand.class,
            CompletionCommand.class, ManCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
            "  piimage init -o plan.yaml                 # a commented starter plan",
            "  piimage check plan.yaml                   # every error and warning at once",
            "  piimage bake plan.yaml                    # -> out/<cluster>/",
            "  piimage wait plan.yaml                    # after powering the Pis on",
            "  piimage status plan.yaml",
            "", "Exit codes: 0 success, 1 invalid input or failure, 2 usage error."})
public final class Main implements Runnable {

    public static final int OK = 0;
    public static final int INVALID_INPUT = 1;
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI without exiting the JVM (tests call this). */
    public static int run(String... args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            cmd.getErr().println("piimage: internal error: " + exception);
            exception.printStackTrace(cmd.getErr());
            return INVALID_INPUT;
        });
        return commandLine.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'piimage bake PLAN' or 'piimage --help'");
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"piimage " + Version.get()};
        }
    }
}
