<#if isFirstControlPlane>
<#global mode = "0600">
# kubeadm init for ${node.name}, the first control plane of ${cluster.name} (kubeadm.k8s.io/v1beta4).
# Written by piimage ${piimage.version}; holds the bootstrap token init makes (root only).
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - token: ${q(secrets.bootstrapToken)}
    # kubeadm init makes a token whatever the configuration says (a random one when none is named);
    # nodes join with their join certificates instead, so piimage deletes this one right after init
    # (the short ttl covers a power cut before that).
    description: "piimage: made by kubeadm init, deleted right after it; nodes join with join certificates"
    ttl: 15m0s
    usages: [signing, authentication]
    groups: [system:bootstrappers:kubeadm:default-node-token]
localAPIEndpoint:
  advertiseAddress: ${q(node.address)}
  bindPort: 6443
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
timeouts:
  # A Raspberry Pi pulling images over a home connection is slow.
  controlPlaneComponentHealthCheck: 10m0s
  kubeletHealthCheck: 10m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: ${q(cluster.name)}
# "stable-<minor>" is replaced at boot with the version of the kubeadm that was installed.
kubernetesVersion: ${q(cluster.kubernetesVersion.pinned()?then("v" + cluster.kubernetesVersion.toString(), "stable-" + cluster.kubernetesVersion.minorVersion()))}
controlPlaneEndpoint: ${q(endpoint.hostPort())}
encryptionAlgorithm: ${cluster.keyAlgorithm.kubeadmName()}
networking:
  podSubnet: ${q(cluster.podSubnet)}
  serviceSubnet: ${q(cluster.serviceSubnet)}
  dnsDomain: ${q(cluster.dnsDomain)}
apiServer:
  certSANs:
    - ${q(endpoint.vip)}
<#list controlPlanes as cp>
    - ${q(cp.name)}
    - ${q(cp.address)}
</#list>
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
</#if>
