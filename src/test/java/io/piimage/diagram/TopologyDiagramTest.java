package io.piimage.diagram;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.image.ImageProfiles;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.plan.PlanLoader;
import io.piimage.testing.Project;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The SVG is well-formed XML (the JDK's parser) and shows every node with its address. */
class TopologyDiagramTest {

    @ParameterizedTest
    @ValueSource(strings = {"makina.yaml", "nkte8.yaml"})
    void everyNodeIsDrawnWithItsAddressInWellFormedSvg(String example) throws Exception {
        Plan plan = PlanLoader.load(Project.example(example), ImageProfiles.packaged().names()).plan();
        String svg = TopologyDiagram.svg(plan);
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document = factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        Element root = document.getDocumentElement();
        assertThat(root.getLocalName()).isEqualTo("svg");
        assertThat(root.getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
        assertThat(Integer.parseInt(root.getAttribute("width"))).isPositive();

        NodeList groups = document.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        List<String> drawn = new ArrayList<>();
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (g.getAttribute("class").startsWith("node ")) {
                drawn.add(g.getAttribute("id"));
                Node node = plan.node(g.getAttribute("id").substring("node-".length())).orElseThrow();
                assertThat(g.getTextContent()).contains(node.name()).contains(node.address().toString());
                assertThat(g.getAttribute("class")).isEqualTo("node role-" + node.role().key());
            }
        }
        assertThat(drawn).containsExactlyInAnyOrderElementsOf(plan.nodes().stream().map(n -> "node-" + n.name()).toList());
        assertThat(root.getTextContent()).contains("VIP " + plan.endpoint().hostPort())
                .contains(plan.network().subnet().toString()).contains(plan.network().gateway().toString());
    }

    @org.junit.jupiter.api.Test
    void textIsEscaped() {
        assertThat(TopologyDiagram.escape("a<b & \"c\"")).isEqualTo("a&lt;b &amp; &quot;c&quot;");
    }

    @org.junit.jupiter.api.Test
    void theReadmePictureIsCurrent() throws Exception {
        Plan plan = PlanLoader.load(Project.example("makina.yaml"), ImageProfiles.packaged().names()).plan();
        assertThat(Files.readString(Project.root().resolve("docs/makina.svg")))
                .as("regenerate with: piimage diagram examples/makina.yaml -o docs/makina.svg")
                .isEqualTo(TopologyDiagram.svg(plan));
    }
}
