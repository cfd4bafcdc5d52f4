package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliRunner;
import io.piimage.testing.Project;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Through the CLI: an error check reports stops bake before anything is written (issue 13, items 4 and 15). */
class CheckAndBakeAgreeTest {

    @TempDir
    Path dir;

    private void assertNothingBesides(Path plan) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.toList()).containsExactly(plan);
        }
    }

    @Test
    void whatCheckCallsAnErrorStopsBake() throws Exception {
        String makina = Files.readString(Project.example("makina.yaml"));
        String[] mistakes = {
            makina.replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p384"), // kubeadm 1.31 refuses it
            makina.replace("# dns: [192.168.3.1]", "dns: [10.244.0.53]"), // a name server inside podSubnet
            makina.replaceFirst("model: pi4", "model: pi3"), // a pi3 control plane
            makina.replace("port: 9000", "port: 22"), // sshd holds 22 on the load balancers
        };
        Path plan = dir.resolve("plan.yaml");
        for (String mistake : mistakes) {
            Files.writeString(plan, mistake);
            CliRunner.Run check = CliRunner.piimage("check", plan.toString());
            assertThat(check.exitCode()).as(check.out()).isEqualTo(1);
            String error = check.out().lines().filter(l -> l.contains(": error: ")).findFirst().orElseThrow();
            CliRunner.Run bake = CliRunner.piimage("bake", plan.toString(), "-o", dir.resolve("out").toString());
            assertThat(bake.exitCode()).as(bake.out() + bake.err()).isEqualTo(1);
            assertThat(bake.err()).contains(error).contains("nothing was written");
            assertNothingBesides(plan);
        }
    }

    @Test
    void aWarningDoesNotStopBakeAndBakePrintsIt() throws Exception {
        String makina = Files.readString(Project.example("makina.yaml"));
        Path plan = dir.resolve("plan.yaml");
        Files.writeString(plan, makina.replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p256")
                .replace("port: 9000", "port: 9000\n  vrrp: {routerId: 51}"));
        CliRunner.Run check = CliRunner.piimage("check", plan.toString());
        assertThat(check.exitCode()).isZero();
        String warning = check.out().lines().filter(l -> l.contains(": warning: ")).findFirst().orElseThrow();
        CliRunner.Run bake = CliRunner.piimage("bake", plan.toString(), "-q", "-o", dir.resolve("out").toString());
        assertThat(bake.exitCode()).as(bake.err()).isZero();
        assertThat(bake.err()).contains(warning);
    }

    @Test
    void aPlanThatIsNotUtf8GetsItsPlaceAndJson() throws Exception {
        Path plan = dir.resolve("plan.yaml");
        Files.write(plan, "apiVersion: piimage/v1\ncluster:\n  name: l\u00e9b\n".getBytes(StandardCharsets.ISO_8859_1));
        CliRunner.Run text = CliRunner.piimage("check", plan.toString());
        assertThat(text.exitCode()).isEqualTo(1);
        assertThat(text.out()).startsWith(plan + ":3:10: error: not UTF-8: byte 0xE9");
        CliRunner.Run json = CliRunner.piimage("check", "--format", "json", plan.toString());
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(json.out()).contains("\"ok\": false").contains("\"line\": 3").contains("\"column\": 10")
                .contains("not UTF-8: byte 0xE9");
        CliRunner.Run bake = CliRunner.piimage("bake", plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(bake.exitCode()).isEqualTo(1);
        assertThat(bake.err()).contains(plan + ":3:10: error: not UTF-8").doesNotContain("Input length");
        assertNothingBesides(plan);
    }

    @Test
    void aDirectoryGivenAsThePlanIsCalledADirectory() {
        for (String command : new String[] {"check", "bake"}) {
            CliRunner.Run run = CliRunner.piimage(command, dir.toString());
            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.err()).isEqualTo("piimage: error: plan file " + dir + " is a directory, not a plan file\n");
        }
        CliRunner.Run json = CliRunner.piimage("check", "--format", "json", dir.toString());
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(json.out()).contains("\"message\": \"plan file " + dir + " is a directory, not a plan file\"");
    }
}
