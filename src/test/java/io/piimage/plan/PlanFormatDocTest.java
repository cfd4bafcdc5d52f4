package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.plan.PlanFormat.Key;
import io.piimage.plan.PlanFormat.Section;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/plan-format.md describes the format the code reads: every key with its default, every rule with its severity. */
class PlanFormatDocTest {

    @Test
    void theDocNamesEveryKeyWithItsDefaultInItsSection() throws Exception {
        String doc = Files.readString(Project.root().resolve("docs/plan-format.md"));
        for (Section section : PlanFormat.SECTIONS) {
            String heading = section.name().isEmpty() ? "### Top level" : "### `" + section.name() + "`";
            int start = doc.indexOf("\n" + heading);
            assertThat(start).as("docs/plan-format.md has a heading " + heading).isPositive();
            int end = doc.indexOf("\n#", start + 1);
            String part = doc.substring(start, end < 0 ? doc.length() : end);
            for (Key key : section.keys()) {
                String status = key.required() ? "required" : key.defaultValue() == null ? "optional" : "default `" + key.defaultValue() + "`";
                assertThat(part).as(heading + " has a row for " + key.name())
                        .containsPattern("(?m)^\\| `" + Pattern.quote(key.name()) + "` \\| [^|]+ \\| " + Pattern.quote(status) + " \\|");
            }
            Matcher rows = Pattern.compile("(?m)^\\| `(\\w+)` \\|").matcher(part);
            while (rows.find()) {
                assertThat(section.names()).as(heading + " documents a key the format does not have").contains(rows.group(1));
            }
        }
    }

    @Test
    void theDocListsEveryRuleWithItsSeverity() throws Exception {
        String doc = Files.readString(Project.root().resolve("docs/plan-format.md"));
        for (PlanRule rule : PlanRule.values()) {
            assertThat(doc).as(rule.id()).contains("| `" + rule.id() + "` | " + rule.severity() + " | " + rule.summary() + " |");
        }
    }
}
