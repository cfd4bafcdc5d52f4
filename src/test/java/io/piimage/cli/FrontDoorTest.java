package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliTest.Run;
import io.piimage.testing.Project;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One exception handler for every command: the same input mistake gets the same exit code everywhere. */
class FrontDoorTest {

    @TempDir
    Path dir;

    /** An option value that does not parse is a usage error (2), whichever command and option it is. */
    @Test
    void badOptionValuesAreUsageErrorsEverywhere() {
        Path plan = Project.copyExample("makina.yaml", dir);
        List<List<String>> runs = List.of(
                List.of("init", "--load-balancer", "nginx"),
                List.of("init", "--key-algorithm", "dsa"),
                List.of("init", "--vip", "10.0.0.999"),
                List.of("init", "--subnet", "10.0.0.0/33"),
                List.of("init", "--image", "windows"),
                List.of("init", "--kubernetes-version", "latest"),
                // init used to write this plan, which check then refused ("too old")
                List.of("init", "--kubernetes-version", "1.20"),
                List.of("init", "--name", "My_Cluster"),
                List.of("init", "--workers", "many"),
                List.of("bake", plan.toString(), "--compress", "zip"),
                List.of("check", plan.toString(), "--format", "xml"),
                List.of("wait", plan.toString(), "--timeout", "soon"),
                List.of("man", "frobnicate"));
        for (List<String> args : runs) {
            Run run = CliTest.piimage(args.toArray(String[]::new));
            assertThat(run.exitCode()).as(String.join(" ", args) + "\n" + run.err()).isEqualTo(Main.USAGE);
            assertThat(run.err()).as(String.join(" ", args)).startsWith("piimage: usage error: ").contains("--help");
            assertThat(run.out()).as(String.join(" ", args)).isEmpty();
        }
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void enumOptionsTakeThePlanSpellingInAnyCase() {
        Run run = CliTest.piimage("init", "--ssh-key", StarterPlanKey.KEY, "--load-balancer", "VIP-only", "--key-algorithm", "ECDSA-P256",
                "--workers", "0", "--no-gateway-node");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("loadBalancer: vip-only").contains("keyAlgorithm: ecdsa-p256");
    }

    @Test
    void aMissingPlanIsInvalidInputForEveryPlanCommand() {
        String missing = dir.resolve("nope.yaml").toString();
        for (String command : List.of("check", "bake", "diagram", "status", "wait", "kubeconfig")) {
            Run run = CliTest.piimage(command, missing);
            assertThat(run.exitCode()).as(command + "\n" + run.err()).isEqualTo(Main.INVALID_INPUT);
            assertThat(run.err()).as(command).contains("piimage: error: plan file " + missing + " does not exist");
        }
    }

    @Test
    void anInternalErrorSaysSoAndAsksForAReport() {
        StringWriter text = new StringWriter();
        int code = FrontDoor.report(new IllegalStateException("a state the code never expected"), new PrintWriter(text, true));
        assertThat(code).isEqualTo(Main.INVALID_INPUT);
        assertThat(text.toString()).startsWith("piimage: internal error: java.lang.IllegalStateException: a state the code never expected")
                .contains("\tat ").contains("this is a bug in piimage").contains("please report it");
    }

    @Test
    void aRefusalIsOneLineAndExitsOne() {
        StringWriter text = new StringWriter();
        int code = FrontDoor.report(new Refusal("plan.yaml exists; use --force to overwrite it"), new PrintWriter(text, true));
        assertThat(code).isEqualTo(Main.INVALID_INPUT);
        assertThat(text.toString()).isEqualTo("piimage: error: plan.yaml exists; use --force to overwrite it" + System.lineSeparator());
    }

    private static final class StarterPlanKey {
        static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";
    }
}
