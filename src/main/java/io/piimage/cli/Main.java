package io.piimage.cli;

import io.piimage.pipeline.Version;
import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code piimage}: the command-line entry point. Exit codes: 0 success, 1 invalid input or failure, 2 usage
 * error; {@link FrontDoor} maps what the commands throw to them.
 */
@Command(
        name = "piimage",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "Bakes one Kubernetes cluster plan into Raspberry Pi SD-card contents that assemble "
                + "themselves into a highly available cluster on first boot.",
        footer = {"", "Examples:",
            "  piimage init -o plan.yaml                 # a commented starter plan",
            "  piimage check plan.yaml                   # every error and warning at once",
            "  piimage bake plan.yaml                    # -> out/<cluster>/",
            "  piimage wait plan.yaml                    # after powering the Pis on",
            "  piimage status plan.yaml",
            "", "Exit codes: 0 success, 1 invalid input or failure, 2 usage error (an unknown command or option, a",
            "missing argument, or an option value that does not parse, e.g. --load-balancer nginx)."})
public final class Main implements Runnable {

    public static final int OK = 0;
    public static final int INVALID_INPUT = 1;
    public static final int USAGE = 2;

    /** The subcommands, in the order help lists them. */
    static final List<Class<?>> COMMANDS = List.of(InitCommand.class, CheckCommand.class, BakeCommand.class,
            StatusCommand.class, WaitCommand.class, KubeconfigCommand.class, SnapshotCommand.class, RenewCommand.class,
            DiagramCommand.class, ImagesCommand.class, SchemaCommand.class, CompletionCommand.class, ManCommand.class,
            CommandLine.HelpCommand.class);

    /** Subcommands that read the whole command tree (help, completion, man pages). */
    private static final Set<String> WHOLE_TREE = Set.of("help", "completion", "man");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * piimage's command line with every subcommand and its front door installed (exception handlers,
     * converters); a caller that runs many commands in one JVM may build it once.
     */
    public static CommandLine commandLine() {
        return commandLine(COMMANDS);
    }

    /**
     * The command line {@code args} need: when they start with a subcommand that does not read the
     * whole tree, only that one is built. picocli builds a command's model by reflection at start-up,
     * and the other thirteen cost every bake about 50 ms of CPU (README, Benchmarks).
     */
    static CommandLine commandLineFor(String... args) {
        if (args.length > 0 && !WHOLE_TREE.contains(args[0])) {
            for (Class<?> command : COMMANDS) {
                if (command.getAnnotation(Command.class).name().equals(args[0])) {
                    return commandLine(List.of(command));
                }
            }
        }
        return commandLine();
    }

    private static CommandLine commandLine(List<Class<?>> commands) {
        CommandLine commandLine = new CommandLine(new Main());
        commands.forEach(commandLine::addSubcommand);
        return FrontDoor.install(commandLine);
    }

    /** Runs the CLI without exiting the JVM, on standard output and error. */
    public static int run(String... args) {
        return commandLineFor(args).execute(args);
    }

    /** Runs the CLI without exiting the JVM, writing to {@code out} and {@code err} (tests call this). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = commandLineFor(args);
        commandLine.setOut(out);
        commandLine.setErr(err);
        try {
            return commandLine.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
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
