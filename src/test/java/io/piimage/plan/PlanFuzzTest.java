package io.piimage.plan;

import io.piimage.util.FileTrees;
import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliRunner;
import io.piimage.cli.Main;
import io.piimage.testing.Project;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Mutants of the example plans through the real CLI (in-process), {@code check} and {@code bake} each:
 * exit 0 or 1, no stack trace or internal error, nothing written when bake refuses, and check and bake
 * agree on what is a plan error. Seeded: {@code -Dpiimage.fuzz.seed=N} replays a run,
 * {@code -Dpiimage.fuzz.cases=N} sets its length; a failure names its seed and case.
 */
class PlanFuzzTest {

    static final long DEFAULT_SEED = 20261203L;
    static final int DEFAULT_CASES = 2000;

    /** Values a hand or a tool could put where another value belongs. */
    private static final String[] ODD_VALUES = {
        "", "~", "null", "-1", "0", "65536", "99999999999999999999999999", "1e309", "0x1F", "010", "true", "yes",
        "[]", "{}", "[a, b]", "{a: b}", "\"\"", "'x'", "&a x", "*a", "!!binary aGk=", "\"\\u0000\"", "\"\\x85\"",
        "caf\u00e9", "\u202eevil", "\ud83d\ude00", "\uFEFF", "\t", "a\tb", "10.0.0.0/33", "256.1.1.1", "1.31.",
        "\"2.0\"", "\"1.9999\"", "192.168.3.240", "192.168.3.1", "10.96.0.0/30", "10.244.0.0/25", "22", "2379",
        "control-plane", "worker", "load-balancer", "gateway", "stacked", "dedicated", "vip-only", "ecdsa-p384",
        "|\n  block", ">-\n  folded", "? complex", "- item", "\"unterminated", "'unterminated", "#", "%YAML 1.1",
        "---", "...", "a: b: c",
    };

    @TempDir
    Path dir;

    @Test
    void mutantsOfTheExamplePlansNeverCrashAndCheckAgreesWithBake() throws Exception {
        long seed = Long.getLong("piimage.fuzz.seed", DEFAULT_SEED);
        int cases = Integer.getInteger("piimage.fuzz.cases", DEFAULT_CASES);
        System.out.println("PlanFuzzTest: seed " + seed + ", " + cases + " cases (-Dpiimage.fuzz.seed=" + seed + " replays)");

        // ECDSA: leaf keys for every node are made at each bake, and RSA would make the run minutes long.
        List<String> bases = new ArrayList<>();
        for (String example : List.of("makina.yaml", "nkte8.yaml")) {
            bases.add(ecdsa(Files.readString(Project.example(example))));
        }
        bases.add(ecdsa(PlanTexts.BASE));
        List<Path> secrets = new ArrayList<>();
        for (int i = 0; i < bases.size(); i++) {
            Path plan = dir.resolve("base" + i + ".yaml");
            Files.writeString(plan, bases.get(i));
            Path secretsDir = dir.resolve("secrets" + i);
            CliRunner.Run made = CliRunner.piimage("bake", plan.toString(), "-q", "--secrets", secretsDir.toString(), "--init-secrets",
                    "-o", dir.resolve("made" + i).toString());
            assertThat(made.exitCode()).as(made.err()).isZero();
            secrets.add(secretsDir);
        }

        InProcessCli cli = new InProcessCli();
        Random random = new Random(seed);
        Path work = Files.createDirectories(dir.resolve("work"));
        Path plan = work.resolve("plan.yaml");
        Path out = work.resolve("out");
        int checkOk = 0;
        int checkInvalid = 0;
        int bakeRefusedOtherwise = 0;
        List<String> failures = new ArrayList<>();
        for (int n = 0; n < cases && failures.size() < 5; n++) {
            int base = random.nextInt(bases.size());
            byte[] mutant = mutate(bases.get(base), bases, random);
            Files.write(plan, mutant);
            Path secretsDir = secrets.get(base);
            TreeMap<String, String> secretsBefore = snapshot(secretsDir);
            TreeMap<String, String> workBefore = snapshot(work);

            CliRunner.Run check = cli.run("check", plan.toString());
            CliRunner.Run bake = cli.run("bake", plan.toString(), "-q", "--secrets", secretsDir.toString(),
                    "-o", out.toString());

            List<String> problems = new ArrayList<>();
            for (var run : List.of(List.of("check", check), List.of("bake", bake))) {
                CliRunner.Run r = (CliRunner.Run) run.get(1);
                String text = r.out() + r.err();
                if (r.exitCode() != 0 && r.exitCode() != 1) {
                    problems.add(run.get(0) + " exit " + r.exitCode());
                }
                if (text.contains("internal error") || text.contains("\tat ") || text.contains("Exception")
                        || text.contains("Error:")) {
                    problems.add(run.get(0) + " printed a stack trace or internal error");
                }
            }
            boolean bakePlanError = bake.err().contains("error(s); nothing was written");
            if (check.exitCode() == 1) {
                checkInvalid++;
                if (bake.exitCode() != 1 || !bakePlanError) {
                    problems.add("check refused the plan, bake did not refuse it as a plan error");
                }
            } else {
                checkOk++;
                if (bakePlanError) {
                    problems.add("check accepted the plan, bake refused it as a plan error");
                } else if (bake.exitCode() == 1) {
                    bakeRefusedOtherwise++; // e.g. the secrets' key algorithm against a mutated keyAlgorithm
                }
            }
            if (bake.exitCode() != 0) {
                if (!snapshot(work).equals(workBefore)) {
                    problems.add("bake refused but wrote into " + work);
                }
                if (!snapshot(secretsDir).equals(secretsBefore)) {
                    problems.add("bake refused but changed the secrets");
                }
            }
            if (!problems.isEmpty()) {
                Path kept = dir.getParent().resolve("plan-fuzz-seed" + seed + "-case" + n + ".yaml");
                Files.write(kept, mutant);
                failures.add("case " + n + " (seed " + seed + ", kept as " + kept + "): " + problems
                        + "\n--- check:\n" + check.out() + check.err() + "--- bake:\n" + bake.out() + bake.err());
            }
            FileTrees.delete(out);
        }
        System.out.printf("PlanFuzzTest: seed %d, %d cases: check accepted %d, refused %d; bake refused %d accepted plans"
                + " for other reasons; %d failures%n", seed, cases, checkOk, checkInvalid, bakeRefusedOtherwise, failures.size());
        assertThat(failures).isEmpty();
        // A fuzz run that only ever produced broken YAML would test little.
        assertThat(checkOk).as("mutants check accepted").isGreaterThan(cases / 50);
        assertThat(checkInvalid).as("mutants check refused").isGreaterThan(cases / 2);
    }

    /**
     * piimage's own command line, built once: picocli resets every option before each run, and building
     * its model (reflection over every command) was nearly half the run time when done per call. The
     * front door prints an unexpected exception as "internal error"; one that escapes even that is caught
     * and printed here, so it counts as a failure too.
     */
    static final class InProcessCli {
        private final CommandLine commandLine = Main.commandLine();

        CliRunner.Run run(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            commandLine.setOut(new PrintWriter(out, true));
            commandLine.setErr(new PrintWriter(err, true));
            int code;
            try {
                code = commandLine.execute(args);
            } catch (RuntimeException | Error e) {
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                err.write("internal error: " + trace);
                code = -1;
            }
            return new CliRunner.Run(code, out.toString(), err.toString());
        }
    }

    private static String ecdsa(String plan) {
        return plan.replaceFirst("(?m)^(  kubernetesVersion: .*)$", "$1\n  keyAlgorithm: ecdsa-p256");
    }

    /** One to three mutations of one base plan; the result may be any bytes. */
    static byte[] mutate(String base, List<String> bases, Random random) {
        String text = base;
        int roll = random.nextInt(10);
        int mutations = roll < 7 ? 1 : roll < 9 ? 2 : 3; // mostly one: a plan with one slip is the common case
        for (int m = 0; m < mutations; m++) {
            List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
            int at = random.nextInt(lines.size());
            String line = lines.get(at);
            switch (random.nextInt(12)) {
                case 0 -> lines.remove(at);
                case 1 -> lines.add(at, line);
                case 2 -> {
                    int other = random.nextInt(lines.size());
                    lines.set(at, lines.get(other));
                    lines.set(other, line);
                }
                case 3 -> lines.set(at, renameKey(line, random));
                case 4 -> lines.set(at, replaceValue(line, ODD_VALUES[random.nextInt(ODD_VALUES.length)]));
                case 5 -> {
                    String value = lines.get(random.nextInt(lines.size()));
                    int colon = value.indexOf(": ");
                    lines.set(at, replaceValue(line, colon < 0 ? value.strip() : value.substring(colon + 2).strip()));
                }
                case 6 -> {
                    int depth = 1 + random.nextInt(random.nextBoolean() ? 40 : 400);
                    lines.set(at, replaceValue(line, "[".repeat(depth) + "x" + "]".repeat(depth)));
                }
                case 7 -> lines.set(at, replaceValue(line, "9".repeat(1 + random.nextInt(400))));
                case 8 -> {
                    String[] odd = {"\u00e9", "\u202e", "\ud83d\ude00", "\uFEFF", "\u0000", "\u0085", "\u2028", "\t", "\r"};
                    int pos = random.nextInt(line.length() + 1);
                    lines.set(at, line.substring(0, pos) + odd[random.nextInt(odd.length)] + line.substring(pos));
                }
                case 9 -> lines.set(at, line.replaceFirst("^  ", "\t"));
                case 10 -> {
                    String donor = bases.get(random.nextInt(bases.size()));
                    String[] donorLines = donor.split("\n");
                    lines.add(at, donorLines[random.nextInt(donorLines.length)]);
                }
                default -> {
                    // Cut the plan short, as a failed copy would.
                    String joined = String.join("\n", lines);
                    lines = new ArrayList<>(List.of(joined.substring(0, random.nextInt(joined.length() + 1))));
                }
            }
            text = String.join("\n", lines);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (random.nextInt(6) == 0 && bytes.length > 0) {
            // Raw byte damage: often not UTF-8 any more.
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
        }
        return bytes;
    }

    private static String renameKey(String line, Random random) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
            return line;
        }
        String[] keys = {"name", "role", "address", "model", "taints", "labels", "vip", "port", "subnet", "gateway",
            "nodes", "cluster", "endpoint", "podSubnet", "kubernetesVersion", "loadBalancer", "Name", "nodes2"};
        int start = line.length() - line.stripLeading().length();
        String indent = line.substring(0, start).replace("- ", "- ");
        String key = line.substring(start, colon);
        String renamed = switch (random.nextInt(3)) {
            case 0 -> keys[random.nextInt(keys.length)];
            case 1 -> key.length() > 1 ? key.substring(1) : key + key;
            default -> key.toUpperCase(java.util.Locale.ROOT);
        };
        return indent + (key.startsWith("- ") && !renamed.startsWith("- ") ? "- " : "") + renamed + line.substring(colon);
    }

    private static String replaceValue(String line, String value) {
        int colon = line.indexOf(": ");
        if (colon < 0) {
            int dash = line.indexOf("- ");
            return dash < 0 ? value : line.substring(0, dash + 2) + value;
        }
        return line.substring(0, colon + 2) + value;
    }

    /** Path → size and modification time of every file under {@code root} (empty when it is missing). */
    private static TreeMap<String, String> snapshot(Path root) {
        TreeMap<String, String> files = new TreeMap<>();
        if (!Files.exists(root)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(p -> {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    files.put(root.relativize(p).toString(), a.size() + "@" + a.lastModifiedTime().toMillis());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
