package io.piimage.plan;

import java.util.List;
import java.util.Map;

/**
 * One Pi of the plan. {@code model}, {@code image}, {@code interfaceName} and {@code uplink} are null
 * when the plan does not set them; use {@link Plan#imageOf(Node)} and {@link Plan#interfaceOf(Node)} for
 * the effective values.
 */
public record Node(
        String name,
        Role role,
        Ipv4 address,
        PiModel model,
        Map<String, String> labels,
        List<Taint> taints,
        String image,
        String interfaceName,
        String uplink) {

    public Node {
        labels = Map.copyOf(labels);
        taints = List.copyOf(taints);
    }
}
