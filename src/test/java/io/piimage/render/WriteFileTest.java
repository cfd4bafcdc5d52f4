package io.piimage.render;

import io.piimage.util.Quoting;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class WriteFileTest {

    /** Renders a one-entry write_files list the way user-data.ftl does and parses it back. */
    private static byte[] roundTrip(String content) {
        return roundTrip(content.getBytes(StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    private static byte[] roundTrip(byte[] content) {
        WriteFile entry = WriteFile.of(new NodeFile("/etc/x", content, 0644));
        String yaml = "write_files:\n  - path: " + Quoting.yaml(entry.path()) + "\n"
                + (entry.base64() ? "    encoding: b64\n    content: " + entry.content() + "\n"
                        : "    content: |\n" + entry.content());
        Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(yaml);
        Map<String, Object> file = ((List<Map<String, Object>>) doc.get("write_files")).get(0);
        String value = (String) file.get("content");
        return entry.base64() ? Base64.getDecoder().decode(value) : value.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void plainTextStaysReadableAndExact() {
        String text = "global\n    log /dev/log local0\n\n\tindented: with a tab\n# comment: yes\n";
        assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).isFalse();
        assertThat(roundTrip(text)).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void contentALiteralBlockCannotCarryExactlyIsBase64AndExact() {
        for (String text : List.of("no final newline", "two final newlines\n\n", " leading space\n",
                "\nleading newline\n", "carriage\r\nreturn\n", "bell\u0007\n", "")) {
            assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).as(text).isTrue();
            assertThat(roundTrip(text)).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void textBeyondAsciiStaysLiteralOnlyWhereItIsExact() {
        for (String text : List.of("日本語のコメント\n", "em dash \u2014 and \uD83C\uDF53\n")) {
            assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).as(text).isFalse();
            assertThat(roundTrip(text)).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
        for (String text : List.of("next line \u0085\n", "\ufeffbom\n", "line\u2028separator\n", "del \u007f\n")) {
            assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).as(text).isTrue();
            assertThat(roundTrip(text)).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyByteValueIsLiteralOnlyWhenPrintableAndAlwaysArrivesExact() {
        // ASCII takes a fast path over the bytes: it must agree with the character rules for each value.
        for (int b = 0; b < 256; b++) {
            byte[] content = {'a', (byte) b, '\n'};
            boolean printable = b == '\t' || (b >= 0x20 && b < 0x7f);
            assertThat(WriteFile.of(new NodeFile("/etc/a", content, 0644)).base64()).as("byte %d", b).isEqualTo(!printable);
            assertThat(roundTrip(content)).as("byte %d", b).isEqualTo(content);
        }
        assertThat(WriteFile.of(NodeFile.text("/etc/a", "\n", 0644)).base64()).isTrue();
    }

    @Test
    void permissionsAreOctal() {
        assertThat(WriteFile.of(NodeFile.text("/k", "x\n", 0600)).permissions()).isEqualTo("0600");
        assertThat(WriteFile.of(NodeFile.text("/s", "#!/bin/sh\n", 0755)).permissions()).isEqualTo("0755");
        for (int mode : new int[] {0, 07, 070, 0700, 04755, 07777}) {
            assertThat(new NodeFile("/m", new byte[0], mode).permissions()).isEqualTo(String.format("%04o", mode));
        }
    }

    @Test
    void pathsCloudInitCannotWriteAreNamedAndRefused() {
        assertThat(WriteFile.pathProblem("/etc/a: b #c 'd' \"e\" 日本 \uD83C\uDF53")).isEmpty();
        assertThat(WriteFile.pathProblem("/etc/a\nb")).contains("holds a newline (character 7)");
        assertThat(WriteFile.pathProblem("/etc/\u0007")).contains("holds the control character U+0007 (character 6)");
        assertThat(WriteFile.pathProblem("/etc/\u009b")).contains("holds the control character U+009B (character 6)");
        assertThat(WriteFile.pathProblem("/x\u2028")).contains("holds a Unicode line or paragraph separator (character 3)");
        assertThat(WriteFile.pathProblem("/\ufeffx")).contains("holds a byte order mark (character 2)");
        assertThat(WriteFile.pathProblem("/\ufffd")).contains("holds bytes that are not UTF-8 (character 2)");
        assertThat(WriteFile.pathProblem("/a\\b")).contains("holds a backslash (character 3)");
        assertThat(WriteFile.pathProblem("/a\uD83Cb")).contains("holds a lone UTF-16 surrogate (character 3)");
        assertThat(WriteFile.pathProblem("/a\uDF53")).contains("holds a lone UTF-16 surrogate (character 3)");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WriteFile.of(NodeFile.text("/etc/a\rb", "x\n", 0644)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("U+000D");
    }
}
