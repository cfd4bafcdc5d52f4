package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** A valid plan to break one rule at a time, and helpers that say where a text sits in it. */
final class PlanTexts {

    static final Set<String> PROFILES = Set.of("ubuntu-24.04", "raspios-trixie");

    static final String KEY =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";

    /** Dedicated, 2 load balancers, 3 control planes, 1 worker: valid, no warnings. */
    static final String BASE = """
            apiVersion: piimage/v1
            cluster:
              name: lab
              kubernetesVersion: "1.31"
            endpoint:
              vip: 192.168.3.240
              port: 9000
              loadBalancer: dedicated
            network:
              subnet: 192.168.3.0/24
              gateway: 192.168.3.1
            os:
              sshAuthorizedKeys:
                - %s
            nodes:
              - name: lb1
                role: load-balancer
                address: 192.168.3.241
              - name: lb2
                role: load-balancer
                address: 192.168.3.242
              - name: master1
                role: control-plane
                address: 192.168.3.251
              - name: master2
                role: control-plane
                address: 192.168.3.252
              - name: master3
                role: control-plane
                address: 192.168.3.253
              - name: worker1
                role: worker
                address: 192.168.3.231
            """.formatted(KEY);

    private PlanTexts() {
    }

    static LoadedPlan load(String yaml) throws InvalidPlanException {
        return PlanLoader.parse("plan.yaml", yaml, Path.of("plan.yaml"), PROFILES);
    }

    /** Every diagnostic of a plan that must fail, formatted as the CLI prints them. */
    static List<String> problems(String yaml) {
        InvalidPlanException e = catchThrowableOfType(InvalidPlanException.class, () -> load(yaml));
        assertThat(e).as("the plan should be invalid").isNotNull();
        return e.diagnostics().stream().map(Diagnostic::format).toList();
    }

    /** {@code base} with {@code from} replaced by {@code to}; {@code from} must occur exactly once. */
    static String replace(String base, String from, String to) {
        int first = base.indexOf(from);
        assertThat(first).as("'%s' in the plan", from).isNotNegative();
        assertThat(base.indexOf(from, first + 1)).as("'%s' occurs once", from).isNegative();
        return base.substring(0, first) + to + base.substring(first + from.length());
    }

    /** "line:column" (1-based) where the n-th (1-based) occurrence of {@code needle} starts. */
    static String at(String yaml, String needle, int occurrence) {
        int index = -1;
        for (int i = 0; i < occurrence; i++) {
            index = yaml.indexOf(needle, index + 1);
            assertThat(index).as("occurrence %d of '%s'", occurrence, needle).isNotNegative();
        }
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < index; i++) {
            if (yaml.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return line + ":" + (index - lineStart + 1);
    }

    static String at(String yaml, String needle) {
        return at(yaml, needle, 1);
    }

    /** "plan.yaml:L:C: error: message" with the place of {@code needle}. */
    static String error(String yaml, String needle, String message) {
        return "plan.yaml:" + at(yaml, needle) + ": error: " + message;
    }

    static String error(String yaml, String needle, int occurrence, String message) {
        return "plan.yaml:" + at(yaml, needle, occurrence) + ": error: " + message;
    }

    static String warning(String yaml, String needle, String message) {
        return "plan.yaml:" + at(yaml, needle) + ": warning: " + message;
    }

    static String warning(String yaml, String needle, int occurrence, String message) {
        return "plan.yaml:" + at(yaml, needle, occurrence) + ": warning: " + message;
    }
}
