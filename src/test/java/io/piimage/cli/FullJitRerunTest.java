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
    void bothLaunchersPassTheFlagsTheRerunTakesOut() throws Exception {
        // A launcher flag the rerun did not take out would stay in the child (CICompilerCount=1 keeps
        // both compilers from starting), and the fallback would hide it: the bake would just be slow.
        for (String launcher : List.of("piimage", "src/dist/piimage")) {
            String text = java.nio.file.Files.readString(io.piimage.testing.Project.root().resolve(launcher));
            for (String flag : FullJitRerun.C1_ONLY_FLAGS) {
                assertThat(text).as(launcher).contains(flag);
            }
            assertThat(text).as(launcher).contains("-D" + FullJitRerun.PROPERTY + "=" + FullJitRerun.QUICK)
                    .doesNotContainPattern("-XX:(TieredStopAtLevel|CICompilerCount)=(?!1\\b)");
        }
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
