package io.piimage.cli;

import io.piimage.pipeline.Version;
import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

@Command(
        name = "man",
        mixinStandardHelpOptions = true,
        description = {"Prints a command's man page, or writes every page into a directory.",
            "The pages are roff, generated from the same model as --help."},
        footer = {"", "Examples:",
            "  piimage man bake | man -l -                # read one page now",
            "  piimage man -o ~/.local/share/man/man1     # install all pages (man piimage-bake)",
            "", "Exit codes: 0 done, 1 unknown command or unwritable directory, 2 usage error."})
final class ManCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "COMMAND",
            description = "The command whose page to print (e.g. bake); default: piimage itself.")
    String command;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Write every page (piimage.1, piimage-bake.1, ...) into DIR.")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> pages = ManPages.all(spec.root().commandLine(), "piimage " + Version.get());
        if (output != null) {
            try {
                Files.createDirectories(output);
                for (Map.Entry<String, String> page : pages.entrySet()) {
                    AtomicWrite.writeString(output.resolve(page.getKey() + ".1"), page.getValue());
                }
            } catch (IOException e) {
                throw new Refusal("cannot write man pages into " + output + ": " + e.getMessage(), e);
            }
            out.printf("wrote %d man pages into %s%n", pages.size(), output);
            return Main.OK;
        }
        String name = command == null ? "piimage" : "piimage-" + command;
        String page = pages.get(name);
        if (page == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no command '" + command + "'; commands: "
                    + String.join(", ", pages.keySet()).replace("piimage-", ""));
        }
        out.print(page);
        out.flush();
        return Main.OK;
    }
}
