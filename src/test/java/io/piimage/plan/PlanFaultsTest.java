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

    @Test
    void subnetsThatCannotWork() throws Exception {
        String narrow = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.31\"\n  podSubnet: 10.244.0.0/25");
        assertThat(PlanTexts.problems(narrow)).containsExactly(PlanTexts.error(narrow, "10.244.0.0/25",
                "cluster.podSubnet 10.244.0.0/25 is narrower than /24: the controller manager gives each node a /24 of it;"
                        + " use /24 or wider (e.g. 10.244.0.0/16)"));
        // 4 Kubernetes nodes (3 control planes, 1 worker): a /23 holds 2 node ranges, a /22 holds 4.
        String two = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.31\"\n  podSubnet: 10.244.0.0/23");
        assertThat(PlanTexts.problems(two)).containsExactly(PlanTexts.error(two, "10.244.0.0/23",
                "cluster.podSubnet 10.244.0.0/23 holds 2 node range(s) of /24, but the plan has 4 control-plane and"
                        + " worker nodes (each needs one); widen it"));
        PlanTexts.load(two.replace("10.244.0.0/23", "10.244.0.0/22"));

        String wide = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.31\"\n  serviceSubnet: 10.64.0.0/11");
        assertThat(PlanTexts.problems(wide)).containsExactly(PlanTexts.error(wide, "10.64.0.0/11",
                "cluster.serviceSubnet 10.64.0.0/11 is wider than /12: the apiserver refuses a service range of more than"
                        + " 2^20 addresses; use /12 or narrower (e.g. 10.96.0.0/12)"));
        String small = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.31\"\n  serviceSubnet: 10.96.0.0/29");
        assertThat(PlanTexts.problems(small)).containsExactly(PlanTexts.error(small, "10.96.0.0/29",
                "cluster.serviceSubnet 10.96.0.0/29 is too small: the cluster DNS service gets its 10th address"
                        + " (10.96.0.10), which needs at least a /28"));
        PlanTexts.load(small.replace("10.96.0.0/29", "10.96.0.0/28"));
    }

    @Test
    void anEndpointPortTakenOnTheNodesWhereHaproxyListens() throws Exception {
        // Dedicated: the load balancers run sshd, not etcd or the kubelet.
        String ssh = replace(BASE, "port: 9000", "port: 22");
        assertThat(PlanTexts.problems(ssh)).containsExactly(PlanTexts.error(ssh, "22\n",
                "endpoint.port 22 is taken by sshd on the load balancers, where HAProxy listens on it (loadBalancer"
                        + " dedicated); pick another port (e.g. 8443)"));
        PlanTexts.load(replace(BASE, "port: 9000", "port: 2379"));
        PlanTexts.load(replace(BASE, "port: 9000", "port: 10250"));
        // Stacked: HAProxy runs on the control planes, next to etcd and the kubelet.
        String stacked = BASE.replace("loadBalancer: dedicated", "loadBalancer: stacked")
                .replaceAll("  - name: lb\\d\n    role: load-balancer\n    address: [0-9.]+\n", "");
        PlanTexts.load(stacked);
        for (int port : new int[] {22, 2379, 2380, 10250}) {
            String taken = stacked.replace("port: 9000", "port: " + port);
            assertThat(PlanTexts.problems(taken)).singleElement().asString()
                    .startsWith(PlanTexts.error(taken, port + "\n", "endpoint.port " + port + " is taken by "))
                    .contains("on the control planes, where HAProxy listens on it (loadBalancer stacked)");
        }
    }

    @Test
    void duplicateTaintsAreRefused() {
        String twice = replace(BASE, "address: 192.168.3.231",
                "address: 192.168.3.231\n    taints: [\"gpu=a:NoSchedule\", {key: gpu, value: b, effect: NoSchedule}, \"gpu:NoExecute\"]");
        assertThat(PlanTexts.problems(twice)).containsExactly(PlanTexts.error(twice, "{key: gpu",
                "node 'worker1' taint #2: taint #1 has the same key 'gpu' and effect NoSchedule; a node has one taint per key and effect"));
    }

    @Test
    void onlyKubernetesMinorsPiimageKnows() throws Exception {
        for (String version : new String[] {"2.0", "1.9999", "1.38", "1.38.1", "0.31"}) {
            String plan = replace(BASE, "\"1.31\"", "\"" + version + "\"");
            assertThat(PlanTexts.problems(plan)).as(version).singleElement().asString()
                    .startsWith(PlanTexts.error(plan, "\"" + version, "cluster.kubernetesVersion: " + version + " is "));
        }
        assertThat(PlanTexts.problems(replace(BASE, "\"1.31\"", "\"2.0\""))).singleElement().asString()
                .endsWith("2.0 is not a Kubernetes release piimage knows how to install (1.31 to 1.37)");
        for (String version : new String[] {"1.31", "1.34.2", "1.37"}) {
            PlanTexts.load(replace(BASE, "\"1.31\"", "\"" + version + "\""));
        }
    }
}
