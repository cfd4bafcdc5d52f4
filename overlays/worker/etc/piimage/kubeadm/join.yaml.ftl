<#global mode = "0600">
# kubeadm join for ${node.name}, a worker of ${cluster.name} (kubeadm.k8s.io/v1beta4).
# Written by piimage ${piimage.version}; its credentials are in ${secrets.discoveryFile} (root only).
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  # No bootstrap token: kubeadm takes the credentials of this kubeconfig (the node's own join
  # certificate, in the group kubeadm binds its join RBAC to) for discovery and the TLS bootstrap, and
  # trusts the cluster CA it names. So a card baked long after the first assembly still joins.
  file:
    kubeConfigPath: ${q(secrets.discoveryFile)}
nodeRegistration:
  name: ${q(node.name)}
  criSocket: unix:///var/run/containerd/containerd.sock
  taints:
<#list node.taints as t>
    - key: ${q(t.key)}
<#if t.value?has_content>
      value: ${q(t.value)}
</#if>
      effect: ${q(t.effect)}
<#else>
    []
</#list>
  kubeletExtraArgs:
    - name: node-ip
      value: ${q(node.address)}
<#if kubeletLabels?has_content>
    - name: node-labels
      value: ${q(kubeletLabels)}
</#if>
timeouts:
  kubeletHealthCheck: 10m0s
  discovery: 10m0s
  tlsBootstrap: 10m0s
