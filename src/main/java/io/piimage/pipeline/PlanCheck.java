package io.piimage.pipeline;

import io.piimage.image.ImageProfiles;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.Plan;
import io.piimage.plan.PlanLint;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code piimage check}: the loader's rules (the same bake enforces) and then, on a plan that loads, the
 * lint; every finding at once, in file order.
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
            String yaml = Files.readString(planFile, StandardCharsets.UTF_8);
            diagnostics.addAll(PlanLint.lint(plan, planFile.toString(), PlanLint.Locator.of(yaml)));
        } catch (InvalidPlanException e) {
            diagnostics.addAll(e.diagnostics());
        }
        diagnostics.sort(Comparator.comparingInt((Diagnostic d) -> d.line() == 0 ? Integer.MAX_VALUE : d.line())
                .thenComparingInt(Diagnostic::column));
        return new Result(planFile, plan, diagnostics);
    }
}
