package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar started as the launchers start it, with C1 only and the marker property: a first
 * bake runs itself again with both compilers, a re-bake does not. Each JVM prints its final flags
 * (-XX:+PrintFlagsFinal), so the output shows which JVMs ran and with what TieredStopAtLevel.
 */
class FullJitRerunIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final Pattern STOP_AT = Pattern.compile("TieredStopAtLevel\\s+= (\\d)");

    @TempDir
    Path tmp;

    private static Path jar() {
        Path jar = Project.root().resolve("target/piimage.jar");
        assertThat(jar).as("built by mvn package").isRegularFile();
        return jar;
    }

    private static List<String> launcherLike(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:+PrintFlagsFinal"));
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(List.of(args));
        return command;
    }

    private static List<String> quick(String... args) {
        List<String> options = new ArrayList<>(FullJitRerun.C1_ONLY_FLAGS);
        options.add("-D" + FullJitRerun.PROPERTY + "=" + FullJitRerun.QUICK);
        return launcherLike(options, args);
    }

    /** TieredStopAtLevel of each JVM that ran, in the order they printed their flags. */
    private static List<String> jvms(ProcessResult result) {
        List<String> levels = new ArrayList<>();
        Matcher matcher = STOP_AT.matcher(result.stdout());
        while (matcher.find()) {
            levels.add(matcher.group(1));
        }
        return levels;
    }

    private static int count(String text, String part) {
        return text.split(Pattern.quote(part), -1).length - 1;
    }

    private Path plan() throws IOException {
        Path plan = tmp.resolve("makina.yaml");
        Files.copy(Project.root().resolve("examples/makina.yaml"), plan);
        return plan;
    }

    @Test
    void aFirstBakeAndRenewRunAgainWithBothCompilersAndSayEverythingOnce() throws IOException {
        Path plan = plan();

        ProcessResult first = ExternalTool.run(TIMEOUT, quick("bake", plan.toString(), "-o", "out"), tmp);

        assertThat(first.exitCode()).as(first.stderr()).isZero();
        assertThat(jvms(first)).containsExactly("1", "4");
        assertThat(count(first.stderr(), "created the cluster's secrets")).isEqualTo(1);
        assertThat(count(first.stdout(), "baked 9 node(s) of cluster makina")).isEqualTo(1);
        assertThat(tmp.resolve("makina.secrets/ca.key")).isRegularFile();

        ProcessResult again = ExternalTool.run(TIMEOUT, quick("bake", plan.toString(), "-o", "out"), tmp);

        assertThat(again.exitCode()).as(again.stderr()).isZero();
        assertThat(jvms(again)).as("a re-bake makes no keys: C1 alone").containsExactly("1");
        assertThat(count(again.stdout(), "baked 9 node(s) of cluster makina")).isEqualTo(1);

        ProcessResult renew = ExternalTool.run(TIMEOUT, quick("renew", plan.toString(), "-o", "out"), tmp);

        assertThat(renew.exitCode()).as(renew.stderr()).isZero();
        assertThat(jvms(renew)).as("renew makes two keys: both compilers").containsExactly("1", "4");
        assertThat(count(renew.stdout(), "with the new admin certificate")).isEqualTo(1);
    }

    @Test
    void theRerunsExitStatusAndMessageAreTheCommandsAndNothingIsWritten() throws IOException {
        Path plan = tmp.resolve("broken.yaml");
        Files.writeString(plan, Files.readString(plan()).replace("name: makina", "name: Makina_Bad"));

        ProcessResult result = ExternalTool.run(TIMEOUT, quick("bake", plan.toString(), "-o", "out"), tmp);

        assertThat(result.exitCode()).as(result.stderr()).isEqualTo(Main.INVALID_INPUT);
        assertThat(jvms(result)).as("no secrets yet: run again before the plan is read").containsExactly("1", "4");
        assertThat(count(result.stderr(), "broken.yaml:")).as(result.stderr()).isEqualTo(1);
        assertThat(tmp.resolve("out")).doesNotExist();
        assertThat(tmp.resolve("broken.secrets")).doesNotExist();
    }

    @Test
    void aJvmWithoutTheLaunchersMarkerCarriesOnItself() throws IOException {
        Path plan = plan();

        ProcessResult result = ExternalTool.run(TIMEOUT, launcherLike(List.of("-XX:TieredStopAtLevel=1"), "bake", plan.toString(),
                "-o", "out", "-q"), tmp);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(jvms(result)).containsExactly("1");
        assertThat(tmp.resolve("makina.secrets/ca.key")).isRegularFile();
    }

    @Test
    void stoppingTheCommandStopsTheRerunToo() throws Exception {
        Path plan = tmp.resolve("plan100.yaml");
        String key = Files.readString(plan()).lines().filter(l -> l.contains("ssh-ed25519")).findFirst().orElseThrow()
                .replaceAll(".*(ssh-ed25519 [A-Za-z0-9+/=]+).*", "$1");
        ProcessResult generated = ExternalTool.run(TIMEOUT, List.of("bash", Project.root().resolve("bench/plan100.sh").toString(), key), tmp);
        assertThat(generated.exitCode()).as(generated.stderr()).isZero();
        Files.writeString(plan, generated.stdout());
        Process parent = new ProcessBuilder(quick("bake", plan.toString(), "-o", "out", "-q")).directory(tmp.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Optional<ProcessHandle> child = Optional.empty();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (child.isEmpty() && parent.isAlive() && System.nanoTime() < deadline) {
            child = parent.children().findFirst();
            Thread.sleep(5);
        }
        assertThat(child).as("the first bake ran itself again").isPresent();

        parent.destroy(); // SIGTERM, as a service manager or kill would send

        assertThat(parent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.get().isAlive()).as("the rerun stopped with the command").isFalse();
    }
}
