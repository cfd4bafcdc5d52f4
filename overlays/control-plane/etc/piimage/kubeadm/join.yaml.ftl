<#global mode = "0600">
# kubeadm join for ${node.name}, a control plane of ${cluster.name} (kubeadm.k8s.io/v1beta4). The
# shared CA keys are already in /etc/kubernetes/pki, so no certificateKey/upload-certs is needed.
# Written by piimage ${piimage.version}; holds the bootstrap token (root only).
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: ${q(endpoint.hostPort())}
    token: ${q(secrets.bootstrapToken)}
    caCertHashes:
      - ${q(secrets.caCertHash)}
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
