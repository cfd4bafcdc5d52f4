package io.piimage.plan;

import static io.piimage.plan.PlanTexts.BASE;
import static io.piimage.plan.PlanTexts.replace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile plans (issue 13): each gets diagnostics with a place, never a crash. */
class PlanFaultsTest {

    @TempDir
    Path dir;

    private List<String> loadFile(byte[] content) throws Exception {
        Path plan = dir.resolve("plan.yaml");
        Files.write(plan, content);
        InvalidPlanException e = catchThrowableOfType(InvalidPlanException.class, () -> PlanLoader.load(plan, PlanTexts.PROFILES));
        assertThat(e).as("the plan should be invalid").isNotNull();
        return e.diagnostics().stream().map(Diagnostic::format).map(l -> l.replace(plan.toString(), "plan.yaml")).toList();
    }

    @Test
    void aMistypedRoleOnTheOnlyNodeIsADiagnosticWithAHint() {
        String one = BASE.substring(0, BASE.indexOf("  - name: lb1"))
                .replace("loadBalancer: dedicated", "loadBalancer: stacked")
                + "  - name: m1\n    role: controlplane\n    address: 192.168.3.251\n";
        assertThat(PlanTexts.problems(one)).containsExactly(PlanTexts.error(one, "controlplane",
                "node 'm1' role: 'controlplane' is not one of control-plane, worker, load-balancer, gateway;"
                        + " did you mean 'control-plane'?"));
    }

    @Test
    void whatCheckCallsAnErrorTheLoaderRefuses() {
        // Formerly lint only (check), so bake went on: the loader is the one rule set both use.
        String p384 = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.31\"\n  keyAlgorithm: ecdsa-p384");
        assertThat(PlanTexts.problems(p384)).singleElement().asString()
                .startsWith(PlanTexts.error(p384, "ecdsa-p384", "keyAlgorithm ecdsa-p384 needs Kubernetes 1.34"));
        String dns = replace(BASE, "gateway: 192.168.3.1", "gateway: 192.168.3.1\n  dns: [10.244.0.53]");
        assertThat(PlanTexts.problems(dns)).singleElement().asString()
                .startsWith(PlanTexts.error(dns, "10.244.0.53", "name server 10.244.0.53 lies inside podSubnet 10.244.0.0/16"));
    }

    @Test
    void lintWarningsComeWithALoadedPlan() throws Exception {
        String sample = replace(BASE, "port: 9000", "port: 9000\n  vrrp: {routerId: 51}");
        LoadedPlan loaded = PlanTexts.load(sample);
        assertThat(loaded.warnings()).singleElement().satisfies(w -> {
            assertThat(w.format()).startsWith(PlanTexts.warning(sample, "51}", "VRRP router id 51"));
        });
    }

    @Test
    void deeplyNestedYamlIsRefusedAtItsPlace() {
        String flow = "apiVersion: piimage/v1\nnodes: " + "[".repeat(50_000) + "]".repeat(50_000) + "\n";
        assertThat(PlanTexts.problems(flow)).singleElement().asString()
                .isEqualTo("plan.yaml:2:39: error: lists and mappings nest deeper than 32 levels here;"
                        + " a plan needs at most 5 (nodes, a node, its taints, a taint)");
        StringBuilder block = new StringBuilder("apiVersion: piimage/v1\ncluster:\n");
        for (int i = 1; i <= 400; i++) {
            block.append("  ".repeat(i)).append("k:\n");
        }
        assertThat(PlanTexts.problems(block.toString())).singleElement().asString()
                .startsWith("plan.yaml:34:65: error: lists and mappings nest deeper than 32 levels");
    }

    @Test
    void aPlanThatIsNotUtf8IsRefusedAtTheByte() throws Exception {
        byte[] latin1 = replace(BASE, "name: lab", "name: l\u00e9b").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(loadFile(latin1)).containsExactly("plan.yaml:3:10: error: not UTF-8: byte 0xE9 cannot be read as UTF-8"
                + " here; a plan is UTF-8 text (convert it, e.g. iconv -f latin1 -t utf-8)");
        // Columns count characters: a valid two-byte character before the bad byte is one column.
        byte[] mixed = "apiVersion: piimage/v1\n# caf\u00e9 \u00ff\n".getBytes(StandardCharsets.UTF_8);
        mixed[mixed.length - 3] = (byte) 0xff;
        mixed[mixed.length - 2] = (byte) ' ';
        assertThat(loadFile(mixed)).singleElement().asString().startsWith("plan.yaml:2:8: error: not UTF-8: byte 0xFF");
    }

    @Test
    void aDirectoryOrAMissingFileIsNamedSo() throws Exception {
        InvalidPlanException directory = catchThrowableOfType(InvalidPlanException.class, () -> PlanLoader.load(dir, PlanTexts.PROFILES));
        assertThat(directory.diagnostics()).singleElement().asString()
                .isEqualTo(dir + ": error: plan file " + dir + " is a directory, not a plan file");
        Path missing = dir.resolve("nope.yaml");
        InvalidPlanException absent = catchThrowableOfType(InvalidPlanException.class, () -> PlanLoader.load(missing, PlanTexts.PROFILES));
        assertThat(absent.diagnostics()).singleElement().asString().endsWith("plan file " + missing + " does not exist");
    }

    @Test
    void aPlanOverOneMebibyteIsRefusedUnread() throws Exception {
        byte[] big = (BASE + "#".repeat(PlanLoader.MAX_PLAN_BYTES)).getBytes(StandardCharsets.UTF_8);
        assertThat(loadFile(big)).containsExactly("plan.yaml: error: the plan is " + big.length + " bytes; piimage reads"
                + " plans of up to 1 MiB (1048576 bytes; a plan of 100 nodes is about 10 KB): is this the plan file?");
        // Just under the limit is read (and here valid: comments).
        String fits = BASE + "#".repeat(PlanLoader.MAX_PLAN_BYTES - BASE.length() - 1) + "\n";
        Path plan = dir.resolve("fits.yaml");
        Files.writeString(plan, fits);
        assertThat(Files.size(plan)).isEqualTo(PlanLoader.MAX_PLAN_BYTES);
        assertThat(PlanLoader.load(plan, PlanTexts.PROFILES).plan().nodes()).hasSize(6);
    }

    @Test
    void aHugeValueGetsNoCostlyHint() {
        // "did you mean" compares against ~600 time zones; a 500 KB value must not be compared in full.
        String huge = replace(BASE, "  sshAuthorizedKeys:", "  timezone: Asia/" + "x".repeat(500_000) + "\n  sshAuthorizedKeys:");
        assertThat(PlanTexts.problems(huge)).singleElement().asString().contains("is not a time zone");
    }
}
