package io.piimage.cli;

import io.piimage.pipeline.ClusterAccess;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The options of the commands that work on a baked cluster (status, wait, kubeconfig, renew, snapshot):
 * which plan and which secrets. {@link #open()} refuses a missing plan, loads it with the secrets
 * directory and prints its warnings; errors are thrown for {@link FrontDoor}, as {@link PlanArgument} does.
 */
final class ClusterOptions {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML) that was baked.")
    Path plan;

    @Option(names = "--secrets", paramLabel = "DIR",
            description = "The secrets directory (default: <plan name>.secrets beside the plan).")
    Path secrets;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The plan and its secrets directory, warnings printed on the command's error stream. */
    ClusterAccess open() throws InvalidPlanException, IOException {
        String unreadable = PlanLoader.unreadableReason(plan);
        if (unreadable != null) {
            throw new Refusal("plan file " + plan + " " + unreadable);
        }
        ClusterAccess access = ClusterAccess.open(plan, secrets);
        access.warnings().forEach(w -> command.commandLine().getErr().println(w.format()));
        return access;
    }
}
