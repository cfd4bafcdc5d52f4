package io.piimage.pipeline;

import io.piimage.image.ImageProfiles;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.Plan;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code piimage check}: the loader's rules, the very ones bake enforces; every finding at once, in file
 * order (the loader sorts them).
 */
public final class PlanCheck {

    private PlanCheck() {
    }

    /** {@code plan} is null when the plan has errors the loader stops at. */
    public record Result(Path file, Plan plan, List<Diagnostic> diagnostics) {
        public Result {
            diagnostics = List.copyOf(diagnostics);
        }

        public long errors() {
            return diagnostics.stream().filter(Diagnostic::isError).count();
        }

        public long warnings() {
            return diagnostics.size() - errors();
        }

        public boolean ok() {
            return errors() == 0;
        }
    }

    public static Result run(Path planFile) throws IOException {
        List<Diagnostic> diagnostics = new ArrayList<>();
        Plan plan = null;
        try {
            LoadedPlan loaded = PlanLoader.load(planFile, ImageProfiles.packaged().names());
            plan = loaded.plan();
            diagnostics.addAll(loaded.warnings());
        } catch (InvalidPlanException e) {
            diagnostics.addAll(e.diagnostics());
        }
        return new Result(planFile, plan, diagnostics);
    }
}
