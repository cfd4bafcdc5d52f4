<#global mode = "0600">
# kubeadm join for ${node.name}, a worker of ${cluster.name} (kubeadm.k8s.io/v1beta4).
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
