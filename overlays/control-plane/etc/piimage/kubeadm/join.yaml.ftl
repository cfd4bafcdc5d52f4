<#global mode = "0600">
# kubeadm join for ${node.name}, a control plane of ${cluster.name} (kubeadm.k8s.io/v1beta4). The
# shared CA keys are already in /etc/kubernetes/pki, so no certificateKey/upload-certs is needed.
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
  # Listed explicitly: without a control-plane taint when the plan has no workers.
  taints:
<#list node.taints as t>
    - key: ${q(t.key)}
<#if t.value?has_content>
      value: ${q(t.value)}
</#if>
      effect: ${q(t.effect)}
</#list>
<#if workers?has_content>
    - key: node-role.kubernetes.io/control-plane
      effect: NoSchedule
</#if>
<#if !workers?has_content && !node.taints?has_content>
    []
</#if>
  kubeletExtraArgs:
    - name: node-ip
      value: ${q(node.address)}
<#if kubeletLabels?has_content>
    - name: node-labels
      value: ${q(kubeletLabels)}
</#if>
controlPlane:
  localAPIEndpoint:
    advertiseAddress: ${q(node.address)}
    bindPort: 6443
timeouts:
  controlPlaneComponentHealthCheck: 10m0s
  kubeletHealthCheck: 10m0s
  discovery: 10m0s
  tlsBootstrap: 10m0s
