package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.image.ImageProfiles;
import io.piimage.pki.KeyAlgorithm;
import io.piimage.testing.JsonSchemaValidator;
import io.piimage.testing.JsonSchemaValidator.Outcome;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The plan's JSON Schema, checked by a real validator (Python jsonschema) against real plans. */
class PlanSchemaTest {

    @TempDir
    Path dir;

    private static List<Path> examples() throws Exception {
        try (Stream<Path> files = Files.list(Project.root().resolve("examples"))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    /**
     * The shipped schema is the one {@link PlanFormat} describes. After changing the format, run this test
     * with -Dpiimage.schema.update=true to rewrite the resource, and commit it.
     */
    @Test
    void theShippedSchemaIsTheOneGeneratedFromThePlanFormat() throws Exception {
        String generated = PlanSchema.generate(ImageProfiles.packaged().names());
        Path shipped = Project.root().resolve("src/main/resources").resolve(PlanSchema.RESOURCE);
        if (Boolean.getBoolean("piimage.schema.update")) {
            Files.writeString(shipped, generated);
        }
        assertThat(Files.readString(shipped))
                .as("src/main/resources/" + PlanSchema.RESOURCE + " is generated from PlanFormat;"
                        + " rerun this test with -Dpiimage.schema.update=true and commit the result")
                .isEqualTo(generated);
        assertThat(PlanSchema.text()).isEqualTo(Files.readString(shipped));
    }

    @Test
    void everyExamplePlanAndEveryStarterPlanValidates() throws Exception {
        List<String> documents = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Path example : examples()) {
            documents.add(Files.readString(example));
            names.add(example.getFileName().toString());
        }
        assertThat(names).contains("makina.yaml", "nkte8.yaml");
        String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";
        for (LoadBalancerMode mode : LoadBalancerMode.values()) {
            StarterPlan.Options d = StarterPlan.Options.defaults();
            documents.add(StarterPlan.render(new StarterPlan.Options("starter-" + mode.key(), d.kubernetesVersion(), 3, 2, mode,
                    null, null, null, d.subnet(), null, mode == LoadBalancerMode.DEDICATED, "raspios-trixie",
                    KeyAlgorithm.ECDSA_P384, List.of(key))));
            names.add("starter " + mode);
        }
        List<Outcome> outcomes = JsonSchemaValidator.validate(PlanSchema.text(), documents, dir);
        for (int i = 0; i < outcomes.size(); i++) {
            assertThat(outcomes.get(i).valid()).as(names.get(i) + ": " + outcomes.get(i).output()).isTrue();
        }
    }

    @Test
    void theSchemaRejectsWhatThePlanFormatForbids() throws Exception {
        String makina = Files.readString(Project.example("makina.yaml"));
        Map<String, String> broken = new java.util.TreeMap<>(Map.of(
                "unknown key", makina.replace("cni: flannel", "cni: flannel\n  cnii: calico"),
                "bad address", makina.replace("vip: 192.168.3.240", "vip: 192.168.3.999"),
                "bad role", makina.replace("role: worker", "role: wrker"),
                "stacked on 6443", makina.replace("port: 9000", "port: 6443").replace("loadBalancer: dedicated", "loadBalancer: stacked"),
                "vip-only off 6443", makina.replace("loadBalancer: dedicated", "loadBalancer: vip-only"),
                "labels on a load balancer", makina.replace("role: load-balancer\n    address: 192.168.3.241",
                        "role: load-balancer\n    address: 192.168.3.241\n    labels: {a: b}"),
                "unknown image", makina.replace("image: ubuntu-24.04", "image: ubuntu-22.04"),
                "unquoted version", makina.replace("kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.31"),
                "no ssh key", makina.replace(
                        "    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz replace-with-yours@example\n", "")));
        // check refuses DSA keys (OpenSSH dropped them); the schema used to accept them
        broken.put("dsa key", makina.replace("- ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "- ssh-dss AAAAC3NzaC1lZDI1NTE5"));
        // the loader refuses ':' in interface names; the schema used to accept it
        broken.put("alias interface", makina.replace("uplink: eth0", "uplink: eth0:1"));
        for (Map.Entry<String, String> entry : broken.entrySet()) {
            if (entry.getKey().equals("unquoted version")) {
                continue; // the loader reads the scalar's text, so 1.31 works there; editors' YAML servers see a number
            }
            assertThatThrownBy(() -> PlanLoader.parse("plan.yaml", entry.getValue(), Path.of("plan.yaml"), ImageProfiles.packaged().names()))
                    .as("the loader must refuse what the schema refuses: " + entry.getKey())
                    .isInstanceOf(InvalidPlanException.class);
        }
        List<String> names = new ArrayList<>(broken.keySet());
        List<String> documents = new ArrayList<>();
        for (String name : names) {
            String text = broken.get(name);
            assertThat(text).as(name + " must change the plan").isNotEqualTo(makina);
            documents.add(text);
        }
        List<Outcome> outcomes = JsonSchemaValidator.validate(PlanSchema.text(), documents, dir);
        for (int i = 0; i < outcomes.size(); i++) {
            assertThat(outcomes.get(i).valid()).as(names.get(i) + ": " + outcomes.get(i).output()).isFalse();
        }
    }

    /** authorized_keys options before the key type: the loader takes them, and so must the schema. */
    @Test
    void keyOptionsAreValidForTheLoaderAndTheSchema() throws Exception {
        String makina = Files.readString(Project.example("makina.yaml"));
        String withOptions = makina.replace("- ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
                "- from=\"192.168.3.0/24\",no-agent-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
        assertThat(withOptions).isNotEqualTo(makina);
        PlanLoader.parse("plan.yaml", withOptions, Path.of("plan.yaml"), ImageProfiles.packaged().names());
        List<Outcome> outcomes = JsonSchemaValidator.validate(PlanSchema.text(), List.of(withOptions), dir);
        assertThat(outcomes.get(0).valid()).as(outcomes.get(0).output()).isTrue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theSchemaNamesExactlyThePackagedImageProfilesAndThePlanKeys() {
        Map<String, Object> schema = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(PlanSchema.text());
        Map<String, Object> defs = (Map<String, Object>) schema.get("$defs");
        List<String> images = (List<String>) ((Map<String, Object>) defs.get("imageProfile")).get("enum");
        assertThat(images).containsExactlyInAnyOrderElementsOf(ImageProfiles.packaged().names());
        Map<String, Object> properties = (Map<String, Object>) schema.get("properties");
        assertThat(properties).containsOnlyKeys("apiVersion", "cluster", "endpoint", "network", "os", "nodes");
        Map<String, Object> cluster = (Map<String, Object>) ((Map<String, Object>) properties.get("cluster")).get("properties");
        List<String> algorithms = (List<String>) ((Map<String, Object>) cluster.get("keyAlgorithm")).get("enum");
        assertThat(algorithms).containsExactlyElementsOf(Stream.of(KeyAlgorithm.values()).map(KeyAlgorithm::key).toList());
    }
}
