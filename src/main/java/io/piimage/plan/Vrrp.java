package io.piimage.plan;

/** The plan's {@code endpoint.vrrp:} section, defaults filled (routerId derived from the cluster name). */
public record Vrrp(int routerId, boolean unicast, boolean preempt) {
}
