package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How a launcher's quick-compiler command line becomes the full-JIT one (the process itself: FullJitRerunIT). */
class FullJitRerunTest {

    @Test
    void theLaunchersC1OnlyFlagsGoAndTheMarkerTurnsFull() {
        List<String> arguments = List.of("-XX:SharedArchiveFile=/c/a.jsa", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
                "-Dpiimage.jit=quick", "-XX:+UseSerialGC", "-jar", "/usr/share/piimage/piimage.jar", "bake", "plan.yaml", "-o", "out");

        assertThat(FullJitRerun.fullJitCommand("/usr/bin/java", arguments)).contains(List.of("/usr/bin/java",
                "-XX:SharedArchiveFile=/c/a.jsa", "-XX:+UseSerialGC", "-Dpiimage.jit=full",
                "-jar", "/usr/share/piimage/piimage.jar", "bake", "plan.yaml", "-o", "out"));
    }

    @Test
    void theCommandsOwnArgumentsStayAsTheyAreEvenWhenTheyLookLikeOptions() {
        List<String> arguments = List.of("-Dpiimage.jit=quick", "-jar", "p.jar", "bake", "-Dpiimage.jit=quick",
                "-XX:TieredStopAtLevel=1", "-jar");

        assertThat(FullJitRerun.fullJitCommand("java", arguments)).contains(List.of("java", "-Dpiimage.jit=full",
                "-jar", "p.jar", "bake", "-Dpiimage.jit=quick", "-XX:TieredStopAtLevel=1", "-jar"));
    }

    @Test
    void aJvmNotStartedWithAJarIsNotRunAgain() {
        assertThat(FullJitRerun.fullJitCommand("java", List.of("-cp", "classes", "io.piimage.cli.Main", "bake", "p.yaml"))).isEmpty();
        assertThat(FullJitRerun.fullJitCommand("java", List.of("-Dpiimage.jit=quick", "-jar"))).isEmpty();
    }

    @Test
    void theRerunsExitStatusIsReturned() throws Exception {
        assertThat(FullJitRerun.run(List.of("sh", "-c", "exit 3"))).contains(3);
        assertThat(FullJitRerun.run(List.of("sh", "-c", "true"))).contains(0);
    }

    @Test
    void aRerunThatCannotStartLeavesTheWorkToThisJvm() throws Exception {
        assertThat(FullJitRerun.run(List.of("/nonexistent/piimage-test/java", "-version"))).isEmpty();
    }

    @Test
    void withoutTheLaunchersMarkerNothingRunsAgain() throws Exception {
        assertThat(System.getProperty(FullJitRerun.PROPERTY)).as("the test JVM is not started by a launcher").isNull();
        assertThat(FullJitRerun.quick()).isFalse();
        assertThat(FullJitRerun.ifQuick(true)).isEmpty();
    }
}
