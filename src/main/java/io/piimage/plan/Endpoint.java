package io.piimage.plan;

/** The stable control-plane endpoint every client and node uses. */
public record Endpoint(Ipv4 vip, int port, LoadBalancerMode loadBalancer, Vrrp vrrp) {

    /** "https://vip:port", the server of every kubeconfig. */
    public String url() {
        return "https://" + vip + ":" + port;
    }

    /** "vip:port", kubeadm's controlPlaneEndpoint. */
    public String hostPort() {
        return vip + ":" + port;
    }
}
