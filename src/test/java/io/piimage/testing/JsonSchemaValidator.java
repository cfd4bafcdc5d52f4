package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * A real JSON Schema validator: Python's {@code jsonschema} (Debian python3-jsonschema), run as a
 * separate process. Checks the schema against its meta-schema, then each instance; instances are YAML
 * or JSON documents, converted to JSON here (YAML 1.2 core types, as editors' YAML servers read them).
 */
public final class JsonSchemaValidator {

    private static final String SCRIPT = String.join("\n",
            "import json, sys",
            "from jsonschema import validators",
            "schema = json.load(open(sys.argv[1]))",
            "cls = validators.validator_for(schema)",
            "cls.check_schema(schema)",
            "validator = cls(schema, format_checker=cls.FORMAT_CHECKER)",
            "bad = 0",
            "for path in sys.argv[2:]:",
            "    errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path))",
            "    for e in errors:",
            "        print('%s: %s: %s' % (path, '/'.join(str(p) for p in e.absolute_path), e.message))",
            "    print('%s: %s' % (path, 'INVALID' if errors else 'VALID'))",
            "    bad += 1 if errors else 0",
            "sys.exit(1 if bad else 0)",
            "");

    private JsonSchemaValidator() {
    }

    public record Outcome(boolean valid, String output) {
    }

    /** Fails or skips (see {@link ExternalTool}) without python3 and its jsonschema module. */
    public static Path requireValidator() {
        Path python = ExternalTool.require("python3");
        ProcessResult probe = ExternalTool.run(Duration.ofSeconds(30), List.of(python.toString(), "-c",
                "import jsonschema, jsonschema.validators"), null);
        if (probe.exitCode() != 0) {
            String reason = "needs python3-jsonschema (installed by .ci/run)";
            if (ExternalTool.required()) {
                fail("PIIMAGE_REQUIRE_TOOLS=1 but " + reason + ": " + probe.output());
            }
            Assumptions.abort(reason + "; skipped");
        }
        return python;
    }

    /** Validates each document against the schema text; one outcome per document, in order. */
    public static List<Outcome> validate(String schema, List<String> documents, Path dir) {
        Path python = requireValidator();
        try {
            Path work = Files.createTempDirectory(dir, "schema");
            Path schemaFile = work.resolve("schema.json");
            Files.writeString(schemaFile, schema, StandardCharsets.UTF_8);
            Path script = work.resolve("validate.py");
            Files.writeString(script, SCRIPT, StandardCharsets.UTF_8);
            List<Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < documents.size(); i++) {
                Path instance = work.resolve("instance" + i + ".json");
                Files.writeString(instance, toJson(documents.get(i)), StandardCharsets.UTF_8);
                ProcessResult result = ExternalTool.run(Duration.ofSeconds(60),
                        List.of(python.toString(), script.toString(), schemaFile.toString(), instance.toString()), work);
                if (result.exitCode() > 1 || (!result.stdout().contains("VALID"))) {
                    fail("the validator did not run: " + result.output());
                }
                outcomes.add(new Outcome(result.exitCode() == 0, result.output()));
            }
            return outcomes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** YAML (or JSON) text to JSON text. */
    public static String toJson(String yaml) {
        Object value = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                io.piimage.json.Json.quote(String.valueOf(entry.getKey()), out);
                out.append(':');
                write(entry.getValue(), out);
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(list.get(i), out);
            }
            out.append(']');
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else {
            io.piimage.json.Json.quote(String.valueOf(value), out);
        }
    }
}
