package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.PlanCheck;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** check = PlanLoader's rules + PlanLint, on plans that differ from the examples by one mistake. */
class PlanLintTest {

    @TempDir
    Path dir;

    private PlanCheck.Result check(String text) throws Exception {
        Path plan = dir.resolve("plan.yaml");
        Files.writeString(plan, text);
        return PlanCheck.run(plan);
    }

    private static String makina() throws Exception {
        return Files.readString(Project.example("makina.yaml"));
    }

    private static String nkte8() throws Exception {
        return Files.readString(Project.example("nkte8.yaml"));
    }

    private static List<String> lines(PlanCheck.Result result) {
        return result.diagnostics().stream().map(Diagnostic::format).toList();
    }

    @Test
    void theExamplesAreClean() throws Exception {
        assertThat(lines(check(makina()))).isEmpty();
        assertThat(lines(check(nkte8()))).isEmpty();
    }

    @Test
    void routerId51IsAWarningAtItsLine() throws Exception {
        PlanCheck.Result result = check(makina().replace("port: 9000", "port: 9000\n  vrrp:\n    routerId: 51"));
        assertThat(result.ok()).isTrue();
        assertThat(lines(result)).singleElement().asString()
                .matches("\\S+plan\\.yaml:\\d+:15: warning: VRRP router id 51 .*");
    }

    @Test
    void ecdsaP384BeforeKubernetes134IsAnError() throws Exception {
        String p384 = makina().replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p384");
        PlanCheck.Result old = check(p384);
        assertThat(old.ok()).isFalse();
        assertThat(lines(old)).anyMatch(l -> l.contains("error: keyAlgorithm ecdsa-p384 needs Kubernetes 1.34"));
        assertThat(check(p384.replace("\"1.31\"", "\"1.34\"")).ok()).isTrue();
        assertThat(check(makina().replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p256")).ok()).isTrue();
    }

    @Test
    void gatewayAddressesAreErrors() throws Exception {
        PlanCheck.Result vip = check(makina().replace("vip: 192.168.3.240", "vip: 192.168.3.1"));
        assertThat(vip.ok()).isFalse();
        assertThat(lines(vip)).anyMatch(l -> l.contains("error") && l.contains("network.gateway"));
        PlanCheck.Result node = check(nkte8().replace("address: 192.168.3.21", "address: 192.168.3.1"));
        assertThat(node.ok()).isFalse();
        assertThat(lines(node)).anyMatch(l -> l.contains("error") && l.contains("192.168.3.1") && l.contains("gateway"));
    }

    @Test
    void aPi3ControlPlaneIsAnErrorAndAPi3WorkerAWarning() throws Exception {
        PlanCheck.Result cp = check(makina().replaceFirst("model: pi4", "model: pi3"));
        assertThat(cp.ok()).isFalse();
        assertThat(lines(cp)).anyMatch(l -> l.contains("error") && l.contains("pi3"));
        String worker = makina().replace("address: 192.168.3.233\n    model: pi4", "address: 192.168.3.233\n    model: pi3");
        PlanCheck.Result w = check(worker);
        assertThat(w.ok()).isTrue();
        assertThat(lines(w)).singleElement().asString().contains("warning: worker worker3 is a pi3");
    }

    @Test
    void noWorkerWhileTheControlPlanesKeepATaint() throws Exception {
        String noWorkers = nkte8().replaceAll("(?s)  - name: node01.*", "");
        PlanCheck.Result untainted = check(noWorkers);
        assertThat(untainted.ok()).isTrue();
        assertThat(lines(untainted)).noneMatch(l -> l.contains("stay Pending"));
        String tainted = noWorkers.replace("address: 192.168.3.11", "address: 192.168.3.11\n    taints: [\"dedicated=infra:NoSchedule\"]")
                .replace("address: 192.168.3.12", "address: 192.168.3.12\n    taints: [{key: dedicated, value: infra, effect: NoSchedule}]")
                .replace("address: 192.168.3.13", "address: 192.168.3.13\n    taints: [\"dedicated:NoExecute\"]");
        PlanCheck.Result result = check(tainted);
        assertThat(result.ok()).isTrue();
        assertThat(lines(result)).anyMatch(l -> l.contains("warning: no worker, and every control plane has a NoSchedule"));
    }

    @Test
    void subnetsThatSwallowTheLanOrItsNameServers() throws Exception {
        // Seed 002's mistake: Calico's default pool 192.168.0.0/16 over a 192.168.3.0/24 LAN (a loader error).
        PlanCheck.Result calico = check(nkte8().replace("podSubnet: 10.244.0.0/16", "podSubnet: 192.168.0.0/16"));
        assertThat(calico.ok()).isFalse();
        assertThat(lines(calico)).anyMatch(l -> l.contains("error") && l.contains("192.168.0.0/16"));
        // The same pool on a 10.x LAN: legal, but it covers most home LANs behind the gateway.
        String tenNet = makina().replace("192.168.3.", "10.3.0.").replace("# podSubnet: 10.244.0.0/16", "podSubnet: 192.168.0.0/16");
        PlanCheck.Result home = check(tenNet);
        assertThat(home.ok()).as(lines(home).toString()).isTrue();
        assertThat(lines(home)).singleElement().asString().contains("warning: podSubnet 192.168.0.0/16 overlaps 192.168.0.0/16");
        PlanCheck.Result dns = check(makina().replace("# dns: [192.168.3.1]", "dns: [10.96.0.10]"));
        assertThat(dns.ok()).isFalse();
        assertThat(lines(dns)).anyMatch(l -> l.matches(".*plan\\.yaml:\\d+:\\d+: error: name server 10\\.96\\.0\\.10 lies inside serviceSubnet.*"));
    }

    @Test
    void everyProblemAtOnce() throws Exception {
        String many = makina().replace("port: 9000", "port: 9000\n  vrrp: {routerId: 51}")
                .replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p384")
                .replace("# dns: [192.168.3.1]", "dns: [10.96.0.10]");
        PlanCheck.Result result = check(many);
        assertThat(result.errors()).isEqualTo(2);
        assertThat(result.warnings()).isEqualTo(1);
        // In file order.
        List<Integer> lineNumbers = result.diagnostics().stream().map(Diagnostic::line).toList();
        assertThat(lineNumbers).isSorted();
    }
}
