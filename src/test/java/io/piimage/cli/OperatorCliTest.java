package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliTest.Run;
import io.piimage.plan.PlanSchema;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The operator commands through the real CLI: exit codes, what they print and write. */
class OperatorCliTest {

    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";

    static final List<String> COMMANDS = List.of("init", "check", "bake", "status", "wait", "kubeconfig", "snapshot", "renew",
            "diagram", "images", "schema", "completion", "man");

    @TempDir
    Path dir;

    private static Run piimage(String... args) {
        return CliTest.piimage(args);
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        // picocli reports a help text it cannot format (a bare % in an example) on the JVM's own stderr.
        PrintStream stderr = System.err;
        ByteArrayOutputStream tracer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(tracer, true, StandardCharsets.UTF_8));
        try {
            Run top = piimage("--help");
            for (String command : COMMANDS) {
                assertThat(top.out()).contains(command);
                Run help = piimage(command, "--help");
                assertThat(help.exitCode()).as(command).isZero();
                assertThat(help.out()).as(command).contains("Usage: piimage " + command).contains("Examples:").contains("Exit codes:");
            }
        } finally {
            System.setErr(stderr);
        }
        assertThat(tracer.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
    }

    @Test
    void checkExitsZeroOnTheExamplesAndOneWithEveryProblemListed() throws Exception {
        Run ok = piimage("check", Project.example("makina.yaml").toString());
        assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("0 error(s), 0 warning(s)").contains("ready to bake");

        Path plan = dir.resolve("plan.yaml");
        Files.writeString(plan, Files.readString(Project.example("makina.yaml"))
                .replace("port: 9000", "port: 9000\n  vrrp: {routerId: 51}")
                .replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p384")
                .replace("vip: 192.168.3.240", "vip: 192.168.3.1"));
        Run bad = piimage("check", plan.toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        // The loader's error stops before lint can run on a plan that does not load...
        assertThat(bad.out()).containsPattern("plan\\.yaml:\\d+:\\d+: error: endpoint\\.vip 192\\.168\\.3\\.1 is network\\.gateway");
        // ...and a plan that loads gets every lint finding at once.
        Files.writeString(plan, Files.readString(plan).replace("vip: 192.168.3.1", "vip: 192.168.3.240"));
        Run lint = piimage("check", plan.toString());
        assertThat(lint.exitCode()).isEqualTo(1);
        assertThat(lint.out()).containsPattern("plan\\.yaml:\\d+:\\d+: error: keyAlgorithm ecdsa-p384 needs Kubernetes 1\\.34")
                .containsPattern("plan\\.yaml:\\d+:\\d+: warning: VRRP router id 51")
                .contains("1 error(s), 1 warning(s)");
        assertThat(piimage("check", dir.resolve("nope.yaml").toString()).exitCode()).isEqualTo(1);
        assertThat(piimage("check").exitCode()).isEqualTo(2);
    }

    @Test
    @SuppressWarnings("unchecked")
    void checkSpeaksJsonForMachines() throws Exception {
        Path plan = dir.resolve("plan.yaml");
        Files.writeString(plan, Files.readString(Project.example("makina.yaml"))
                .replace("cni: flannel", "cni: flannel\n  keyAlgorithm: ecdsa-p384"));
        Run run = piimage("check", plan.toString(), "--format", "json");
        assertThat(run.exitCode()).isEqualTo(1);
        Map<String, Object> json = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(run.out());
        assertThat(json).containsEntry("ok", false).containsEntry("errors", 1).containsEntry("warnings", 0);
        Map<String, Object> first = ((List<Map<String, Object>>) json.get("diagnostics")).get(0);
        assertThat(first).containsEntry("severity", "error").containsEntry("file", plan.toString());
        assertThat((Integer) first.get("line")).isPositive();
        assertThat((String) first.get("message")).contains("ecdsa-p384");
        Run clean = piimage("check", Project.example("nkte8.yaml").toString(), "--format=json");
        assertThat(clean.exitCode()).isZero();
        assertThat(clean.out()).contains("\"ok\": true");
        assertThat(piimage("check", plan.toString(), "--format", "xml").exitCode()).isEqualTo(2);
    }

    @Test
    void initWritesAPlanThatPassesCheckWithTheUsersKeys() throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve(".ssh"));
        Files.writeString(home.resolve(".ssh/id_ed25519.pub"), KEY + "\n");
        Files.writeString(home.resolve(".ssh/not-a-key.pub"), "hello\n");
        // check refuses DSA keys, so init must not copy one into the plan
        Files.writeString(home.resolve(".ssh/id_dsa.pub"), "ssh-dss AAAAB3NzaC1kc3MAAACBAPold me@old\n");
        String oldHome = System.getProperty("user.home");
        Path plan = dir.resolve("plan.yaml");
        Run run;
        try {
            System.setProperty("user.home", home.toString());
            run = piimage("init", "-o", plan.toString());
        } finally {
            System.setProperty("user.home", oldHome);
        }
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("1 SSH key(s)");
        assertThat(Files.readString(plan)).contains(KEY).contains("# ").contains("apiVersion: piimage/v1");
        Run check = piimage("check", plan.toString());
        assertThat(check.exitCode()).as(check.out()).isZero();
        assertThat(check.out()).contains("0 error(s), 0 warning(s)");

        assertThat(Files.readString(plan)).doesNotContain("ssh-dss");
        Run dsa = piimage("init", "--ssh-key", "ssh-dss AAAAB3NzaC1kc3MAAACBAPold me@old");
        assertThat(dsa.exitCode()).isEqualTo(2);
        assertThat(dsa.err()).contains("does not look like an SSH public key");

        Run again = piimage("init", "-o", plan.toString(), "--ssh-key", KEY);
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("exists").contains("--force");
    }

    @Test
    void initFlagsShapeThePlan() throws Exception {
        Path plan = dir.resolve("custom.yaml");
        Run run = piimage("init", "-o", plan.toString(), "--ssh-key", KEY, "--name", "lab", "--control-planes", "3",
                "--workers", "4", "--load-balancer", "stacked", "--vip", "10.0.0.100", "--subnet", "10.0.0.0/24",
                "--no-gateway-node");
        assertThat(run.exitCode()).as(run.err()).isZero();
        String text = Files.readString(plan);
        assertThat(text).contains("name: lab").contains("vip: 10.0.0.100").contains("loadBalancer: stacked")
                .contains("port: 8443").doesNotContain("role: gateway").doesNotContain("role: load-balancer");
        assertThat(piimage("check", plan.toString()).exitCode()).isZero();

        Run stdout = piimage("init", "--ssh-key", KEY, "--load-balancer", "vip-only", "--workers", "0");
        assertThat(stdout.exitCode()).isZero();
        assertThat(stdout.out()).contains("loadBalancer: vip-only");

        Run even = piimage("init", "--ssh-key", KEY, "--control-planes", "2");
        assertThat(even.exitCode()).isEqualTo(1);
        assertThat(even.err()).contains("odd number");
        Run nginx = piimage("init", "--load-balancer", "nginx", "--ssh-key", KEY);
        assertThat(nginx.exitCode()).as("a bad option value is a usage error").isEqualTo(2);
        assertThat(nginx.err()).contains("'nginx' is not one of dedicated, stacked, vip-only");
        assertThat(piimage("init", "--workers", "many").exitCode()).isEqualTo(2);
    }

    @Test
    void initWithoutAnyKeySaysSo() throws Exception {
        Path home = dir.resolve("empty-home");
        Files.createDirectories(home);
        String oldHome = System.getProperty("user.home");
        Run run;
        try {
            System.setProperty("user.home", home.toString());
            run = piimage("init");
        } finally {
            System.setProperty("user.home", oldHome);
        }
        assertThat(run.exitCode()).isZero();
        assertThat(run.err()).contains("no public SSH key");
        assertThat(run.out()).contains("TODO").contains("sshAuthorizedKeys: []");
    }

    @Test
    void schemaPrintsTheRepositorysSchema() throws Exception {
        Run run = piimage("schema");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(PlanSchema.text())
                .isEqualTo(Files.readString(Project.root().resolve("src/main/resources/" + PlanSchema.RESOURCE)));
        assertThat(run.out()).contains("\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"");
    }

    @Test
    void imagesListsTheProfiles() {
        Run run = piimage("images");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("ubuntu-24.04").contains("raspios-trixie").contains("system-boot").contains("bootfs");
    }

    @Test
    void diagramWritesSvg() throws Exception {
        Path svg = dir.resolve("plan.svg");
        Run run = piimage("diagram", Project.example("makina.yaml").toString(), "-o", svg.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(Files.readString(svg)).startsWith("<?xml").contains("<svg").contains("master1");
        Run stdout = piimage("diagram", Project.example("nkte8.yaml").toString());
        assertThat(stdout.out()).contains("node01").endsWith("</svg>\n");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "apiVersion: piimage/v2\n");
        assertThat(piimage("diagram", bad.toString()).exitCode()).isEqualTo(1);
    }

    @Test
    void theSvgRendersWithARealRenderer() throws Exception {
        Path rsvg = ExternalTool.require("rsvg-convert");
        Path svg = dir.resolve("plan.svg");
        assertThat(piimage("diagram", Project.example("makina.yaml").toString(), "-o", svg.toString()).exitCode()).isZero();
        Path png = dir.resolve("plan.png");
        ProcessResult render = ExternalTool.run(Duration.ofSeconds(60),
                List.of(rsvg.toString(), svg.toString(), "-o", png.toString()), dir);
        assertThat(render.exitCode()).as(render.output()).isZero();
        assertThat(render.stderr()).isEmpty();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void completionIsABashScriptBashAccepts() throws Exception {
        Run run = piimage("completion");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("complete -F").contains("status").contains("--load-balancer");
        Path bash = ExternalTool.require("bash");
        Path script = dir.resolve("piimage.bash");
        Files.writeString(script, run.out());
        ProcessResult syntax = ExternalTool.run(Duration.ofSeconds(30), List.of(bash.toString(), "-n", script.toString()), dir);
        assertThat(syntax.exitCode()).as(syntax.output()).isZero();
        // Sourced, it registers a completion function for piimage.
        ProcessResult sourced = ExternalTool.run(Duration.ofSeconds(30), List.of(bash.toString(), "-c",
                "source " + script + " && complete -p piimage"), dir);
        assertThat(sourced.exitCode()).as(sourced.output()).isZero();
        assertThat(sourced.stdout()).contains("piimage");
    }

    @Test
    void manPagesAreValidRoffForEveryCommand() throws Exception {
        Path groff = ExternalTool.require("groff");
        Path out = dir.resolve("man1");
        Run run = piimage("man", "-o", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        for (String command : COMMANDS) {
            Path page = out.resolve("piimage-" + command + ".1");
            assertThat(page).isRegularFile();
            ProcessResult lint = ExternalTool.run(Duration.ofSeconds(30),
                    List.of(groff.toString(), "-man", "-Tutf8", "-ww", "-z", page.toString()), dir);
            assertThat(lint.exitCode()).as(command + ": " + lint.output()).isZero();
            assertThat(lint.stderr()).as(command).isEmpty();
        }
        assertThat(out.resolve("piimage.1")).isRegularFile();
        ProcessResult rendered = ExternalTool.run(Duration.ofSeconds(30),
                List.of(groff.toString(), "-man", "-Tutf8", out.resolve("piimage-bake.1").toString()), dir);
        String text = rendered.stdout().replaceAll(".\b", "");
        assertThat(text).contains("NAME").contains("piimage-bake").contains("--secrets").contains("EXIT STATUS");
        Run one = piimage("man", "check");
        assertThat(one.exitCode()).isZero();
        assertThat(one.out()).startsWith(".\\\"").contains(".TH PIIMAGE\\-CHECK 1");
        Run unknown = piimage("man", "frobnicate");
        assertThat(unknown.exitCode()).as("an unknown COMMAND is a usage error, as `piimage frobnicate` is").isEqualTo(2);
        assertThat(unknown.err()).contains("no command 'frobnicate'");
    }

    @Test
    void kubeconfigPrintsOrWritesTheBakedAdminConf() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Run none = piimage("kubeconfig", plan.toString());
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).contains("bake the plan first");

        Path out = dir.resolve("out");
        Run bake = piimage("bake", plan.toString(), "-o", out.toString());
        assertThat(bake.exitCode()).as(bake.err()).isZero();
        Run printed = piimage("kubeconfig", plan.toString());
        assertThat(printed.exitCode()).as(printed.err()).isZero();
        assertThat(printed.out()).isEqualTo(Files.readString(out.resolve("admin.conf")));

        Path file = dir.resolve("kube/makina.conf");
        Run written = piimage("kubeconfig", plan.toString(), "-o", file.toString());
        assertThat(written.exitCode()).as(written.err()).isZero();
        assertThat(Files.readString(file)).isEqualTo(printed.out());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void bakeWithoutABaseImagePrintsTheImagerLinePerNode() {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        Run run = piimage("bake", plan.toString(), "-o", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("rpi-imager --cli --cloudinit-userdata " + out.resolve("master1/user-data")
                + " --cloudinit-networkconfig " + out.resolve("master1/network-config") + " IMAGE DEVICE");
        assertThat(run.out().lines().filter(l -> l.contains("rpi-imager --cli"))).hasSize(9);
    }
}
