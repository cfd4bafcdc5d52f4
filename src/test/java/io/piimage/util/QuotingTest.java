package io.piimage.util;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class QuotingTest {

    @TempDir
    Path dir;

    /**
     * Every text reads back exactly. The last ones are why the starter plan's own quoter was dropped for
     * this one: it left DEL, C1 controls, U+2028 and a byte-order mark as they were, which YAML does not
     * allow in a document (snakeyaml refuses DEL and C1 outright).
     */
    @Test
    void yamlReadsBackExactly() {
        for (String s : List.of("ssh-ed25519 AAAA me@laptop # not a comment", "a: b", "quote \" and \\ back",
                "tab\tnew\nline\r", "null", "yes", "0755", "- dash", "日本語", "\u0001ctl", "del\u007f", "c1\u0085\u009f",
                "line\u2028separator", "\ufeffbom")) {
            Object back = new Load(LoadSettings.builder().build()).loadFromString("v: " + Quoting.yaml(s));
            assertThat(((Map<?, ?>) back).get("v")).as(s).isEqualTo(s);
        }
    }

    /** The JSON writer uses the same quoter: Python's json module reads every text back exactly. */
    @Test
    void jsonStringsReadBackExactlyInPython() throws Exception {
        Path python = ExternalTool.require("python3");
        List<String> texts = List.of("plain", "quote \" back\\", "tab\tnew\nline\r", "\u0001\u0008\u000c", "del\u007f", "\u2028\ufeff", "日本語");
        Path file = dir.resolve("texts.json");
        java.nio.file.Files.writeString(file, io.piimage.json.Json.write(texts));
        ProcessResult run = ExternalTool.run(Duration.ofSeconds(30), List.of(python.toString(), "-c",
                "import json,sys; print(json.dumps(json.load(open(sys.argv[1])), ensure_ascii=True))", file.toString()), dir);
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        StringBuilder expected = new StringBuilder("[");
        for (int i = 0; i < texts.size(); i++) {
            expected.append(i == 0 ? "" : ", ").append(pythonAscii(texts.get(i)));
        }
        assertThat(run.stdout().strip()).isEqualTo(expected.append(']').toString());
    }

    /** How json.dumps(ensure_ascii=True) writes a string. */
    private static String pythonAscii(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }

    /** bash reads each quoted word back as exactly the text, whichever form was chosen. */
    @Test
    void shellWordsReadBackExactlyInBash() {
        Path bash = ExternalTool.require("bash");
        List<String> texts = List.of("plain", "two words", "it's", "$HOME `id` $(id)", "back\\slash", "*?[a]", "new\nline", "", "--flag");
        StringBuilder script = new StringBuilder();
        for (String text : texts) {
            script.append("printf '%s\\0' ").append(Quoting.shell(text)).append('\n');
            script.append("printf '%s\\0' ").append(text.isEmpty() ? "''" : Quoting.shellIfNeeded(text)).append('\n');
        }
        ProcessResult run = ExternalTool.run(Duration.ofSeconds(30), List.of(bash.toString(), "-c", script.toString()), dir);
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        List<String> back = List.of(run.stdout().split("\0", -1));
        for (int i = 0; i < texts.size(); i++) {
            assertThat(back.get(2 * i)).as("shell(" + texts.get(i) + ")").isEqualTo(texts.get(i));
            assertThat(back.get(2 * i + 1)).as("shellIfNeeded(" + texts.get(i) + ")").isEqualTo(texts.get(i));
        }
        assertThat(Quoting.shellIfNeeded("/boot/firmware/user-data")).isEqualTo("/boot/firmware/user-data");
        assertThat(Quoting.shell("plain")).isEqualTo("'plain'");
    }
}
