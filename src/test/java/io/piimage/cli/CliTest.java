package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.Project;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a user meets it: exit codes, messages, and what is (not) written. */
class CliTest {

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    /** Runs the CLI in this JVM on picocli's writers: no global System.out/err is swapped. */
    static Run piimage(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpAndVersionExitZero() {
        Run help = piimage("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("bake").contains("Examples:");
        Run bakeHelp = piimage("bake", "--help");
        assertThat(bakeHelp.exitCode()).isZero();
        assertThat(bakeHelp.out()).contains("--secrets").contains("--templates").contains("-o, --output");
        Run version = piimage("--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.out()).matches("piimage \\d+\\.\\d+\\.\\d+.*\\n");
    }

    @Test
    void aCommandBuiltAloneIsTheSameCommandAsInTheWholeTree() {
        // Main builds only the subcommand named first (start-up time); what a user sees must not change.
        picocli.CommandLine whole = Main.commandLine();
        assertThat(whole.getSubcommands().keySet()).hasSize(Main.COMMANDS.size());
        for (String name : whole.getSubcommands().keySet()) {
            picocli.CommandLine alone = Main.commandLineFor(name, "--help");
            boolean wholeTree = name.equals("help") || name.equals("completion") || name.equals("man");
            assertThat(alone.getSubcommands().keySet()).as(name)
                    .isEqualTo(wholeTree ? whole.getSubcommands().keySet() : java.util.Set.of(name));
            assertThat(alone.getSubcommands().get(name).getUsageMessage()).as(name)
                    .isEqualTo(whole.getSubcommands().get(name).getUsageMessage());
            Run help = piimage(name, "--help");
            assertThat(help.exitCode()).as(name).isZero();
            assertThat(help.out()).as(name).isEqualTo(whole.getSubcommands().get(name).getUsageMessage());
        }
        assertThat(Main.commandLineFor("--help").getSubcommands()).hasSameSizeAs(whole.getSubcommands());
        assertThat(Main.commandLineFor("bkae").getSubcommands()).hasSameSizeAs(whole.getSubcommands());
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(piimage().exitCode()).isEqualTo(2);
        assertThat(piimage("bake").exitCode()).isEqualTo(2);
        Run unknown = piimage("bake", "--no-such-flag", "plan.yaml");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("--no-such-flag");
        assertThat(piimage("frobnicate").exitCode()).isEqualTo(2);
    }

    @Test
    void imageOptionsWithoutABaseImageAreAUsageErrorThatWritesNothing() {
        Path plan = Project.copyExample("makina.yaml", dir);
        for (String option : List.of("--compress=xz", "--image-profile=ubuntu-24.04")) {
            Run run = piimage("bake", plan.toString(), "-o", dir.resolve("out").toString(), option);
            assertThat(run.exitCode()).as(option).isEqualTo(2);
            assertThat(run.err()).as(option).contains("need --base-image");
        }
        assertThat(dir.resolve("out")).doesNotExist();
        assertThat(dir.resolve("makina.secrets")).doesNotExist();
    }

    @Test
    void bakeWritesTheOutputAndSaysWhatToDoNext() {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        Run run = piimage("bake", plan.toString(), "-o", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("created the cluster's secrets (a new CA) in").contains("back this directory up");
        assertThat(run.out()).contains("master1").contains("admin.conf");
        assertThat(out.resolve("master1/user-data")).isRegularFile();
        Run again = piimage("bake", plan.toString(), "-o", out.toString());
        assertThat(again.exitCode()).isZero();
        assertThat(again.err()).doesNotContain("created the cluster's secrets");
    }

    @Test
    void anInvalidPlanExitsOneWithFileLineColumnAndWritesNothing() throws Exception {
        Path plan = dir.resolve("plan.yaml");
        Files.writeString(plan, Files.readString(Project.example("makina.yaml")).replace("vip: 192.168.3.240", "vip: 192.168.3.999"));
        Run run = piimage("bake", plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).containsPattern("plan\\.yaml:\\d+:\\d+: error: .*192\\.168\\.3\\.999")
                .contains("nothing was written");
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.toList()).containsExactly(plan);
        }
    }

    @Test
    void aMissingPlanFileExitsOne() {
        Run run = piimage("bake", dir.resolve("nope.yaml").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("nope.yaml").contains("does not exist");
    }

    @Test
    void archiveOutput() {
        Path plan = Project.copyExample("makina.yaml", dir);
        Run run = piimage("bake", plan.toString(), "-q", "-o", dir.resolve("cards.tar.gz").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(dir.resolve("cards.tar.gz")).isRegularFile();
    }
}
