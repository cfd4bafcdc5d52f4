package io.piimage.cli;

import io.piimage.image.ImageProfiles;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The PLAN argument every plan command takes, as a picocli mixin ({@code @Mixin PlanArgument plan;}):
 * {@link #load()} refuses a file that is not there, loads the plan with the packaged image profiles and
 * prints its warnings on the command's error stream; a plan with errors is thrown as
 * InvalidPlanException, which {@link FrontDoor} prints (exit 1).
 *
 * <p>A new plan command adopts it in three steps: {@code @Mixin PlanArgument plan;} instead of its own
 * {@code @Parameters Path plan}; {@code plan.load()} (or {@code plan.requireReadable()} when a pipeline
 * class loads the plan itself, then {@code plan.printWarnings(...)}); and {@code call() throws} whatever
 * it cannot handle ({@link Refusal} for a refused input, BakeException, InvalidPlanException,
 * IOException), leaving messages and exit codes to {@link FrontDoor}.
 */
final class PlanArgument {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML).")
    Path file;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    Path file() {
        return file;
    }

    /** Refuses (exit 1) a plan path that is missing, a directory or not a regular file. */
    Path requireReadable() {
        String unreadable = PlanLoader.unreadableReason(file);
        if (unreadable != null) {
            throw new Refusal("plan file " + file + " " + unreadable);
        }
        return file;
    }

    /** The plan, its warnings printed. */
    LoadedPlan load() throws InvalidPlanException, IOException {
        LoadedPlan loaded = PlanLoader.load(requireReadable(), ImageProfiles.packaged().names());
        printWarnings(loaded.warnings());
        return loaded;
    }

    /** Warnings go to standard error, as compilers print them: file:line:column: warning: message. */
    void printWarnings(List<Diagnostic> warnings) {
        warnings.forEach(w -> command.commandLine().getErr().println(w.format()));
    }
}
