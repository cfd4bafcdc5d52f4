<#if isFirstControlPlane && cluster.cni.key() == "calico">
# Calico for cluster ${cluster.name}, installed by the Tigera operator (version in calico-operator-urls):
# one IP pool = the pod subnet ${cluster.podSubnet}, VXLAN encapsulation and no BGP (so no bird and no
# bird health checks), the equivalent of CALICO_IPV4POOL_VXLAN=Always / CALICO_IPV4POOL_IPIP=Never.
# Written by piimage ${piimage.version}; applied by the first control plane right after kubeadm init.
apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    bgp: Disabled
    # The node's InternalIP (kubelet's node-ip, the plan's address): Calico's default (the first
    # address found) may pick a second NIC, e.g. a gateway Pi's uplink, or a keepalived VIP.
    nodeAddressAutodetectionV4:
      kubernetes: NodeInternalIP
    ipPools:
      - name: default-ipv4-ippool
        cidr: ${q(cluster.podSubnet)}
        encapsulation: VXLAN
        natOutgoing: Enabled
        nodeSelector: all()
---
apiVersion: operator.tigera.io/v1
kind: APIServer
metadata:
  name: default
spec: {}
</#if>
