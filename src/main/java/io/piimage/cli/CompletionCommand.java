package io.piimage.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "completion",
        mixinStandardHelpOptions = true,
        description = {"Prints a bash completion script.", "zsh loads it too, through bashcompinit."},
        footer = {"", "Examples:",
            "  source <(piimage completion)                         # this shell",
            "  piimage completion > ~/.local/share/bash-completion/completions/piimage",
            "  # zsh: autoload -U +X bashcompinit && bashcompinit && source <(piimage completion)",
            "", "Exit codes: 0 printed, 2 usage error."})
final class CompletionCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine root = spec.root().commandLine();
        spec.commandLine().getOut().print(AutoComplete.bash("piimage", root));
        spec.commandLine().getOut().flush();
        return Main.OK;
    }
}
