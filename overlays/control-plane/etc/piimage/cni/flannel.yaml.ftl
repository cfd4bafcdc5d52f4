<#if isFirstControlPlane && cluster.cni.key() == "flannel">
# flannel v0.28.9 for cluster ${cluster.name}: VXLAN overlay over the pod subnet ${cluster.podSubnet}.
# Written by piimage ${piimage.version} after upstream's Documentation/kube-flannel.yml (same objects,
# images pinned); applied by the first control plane right after kubeadm init.
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
  labels:
    k8s-app: flannel
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: flannel
  labels: {k8s-app: flannel}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get]}
  - {apiGroups: [""], resources: [nodes], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [nodes/status], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: flannel
  labels: {k8s-app: flannel}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flannel}
subjects:
  - {kind: ServiceAccount, name: flannel, namespace: kube-flannel}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
  labels: {k8s-app: flannel}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels: {tier: node, app: flannel, k8s-app: flannel}
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
        {"type": "portmap", "capabilities": {"portMappings": true}}
      ]
    }
  net-conf.json: |
    {
      "Network": "${cluster.podSubnet}",
      "EnableNFTables": false,
      "Backend": {"Type": "vxlan"}
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels: {tier: node, app: flannel, k8s-app: flannel}
spec:
  selector:
    matchLabels: {app: flannel}
  template:
    metadata:
      labels: {tier: node, app: flannel}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: kubernetes.io/os, operator: In, values: [linux]}
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
        - {operator: Exists, effect: NoSchedule}
      serviceAccountName: flannel
      initContainers:
        - name: install-cni-plugin
          image: ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3
          command: [cp]
          args: [-f, /flannel, /opt/cni/bin/flannel]
          volumeMounts:
            - {name: cni-plugin, mountPath: /opt/cni/bin}
        - name: install-cni
          image: ghcr.io/flannel-io/flannel:v0.28.9
          command: [/opt/bin/install-conf]
          args: [/etc/kube-flannel/cni-conf.json, /etc/cni/net.d/10-flannel.conflist]
          volumeMounts:
            - {name: cni, mountPath: /etc/cni/net.d}
            - {name: flannel-cfg, mountPath: /etc/kube-flannel/}
      containers:
        - name: kube-flannel
          image: ghcr.io/flannel-io/flannel:v0.28.9
          command: [/opt/bin/flanneld]
          args: [--ip-masq, --kube-subnet-mgr, --healthz-port=8081]
          ports:
            - {name: healthz, containerPort: 8081, protocol: TCP}
          livenessProbe:
            httpGet: {path: /healthz, port: healthz}
            initialDelaySeconds: 10
            periodSeconds: 30
          readinessProbe:
            httpGet: {path: /readyz, port: healthz}
            initialDelaySeconds: 5
            periodSeconds: 10
          resources:
            requests: {cpu: 100m, memory: 50Mi}
          securityContext:
            privileged: false
            capabilities:
              add: [NET_ADMIN, NET_RAW]
          env:
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
            - {name: EVENT_QUEUE_DEPTH, value: "5000"}
            - {name: CONT_WHEN_CACHE_NOT_READY, value: "false"}
          volumeMounts:
            - {name: run, mountPath: /run/flannel}
            - {name: flannel-cfg, mountPath: /etc/kube-flannel/}
            - {name: xtables-lock, mountPath: /run/xtables.lock}
      volumes:
        - {name: run, hostPath: {path: /run/flannel}}
        - {name: cni-plugin, hostPath: {path: /opt/cni/bin}}
        - {name: cni, hostPath: {path: /etc/cni/net.d}}
        - {name: flannel-cfg, configMap: {name: kube-flannel-cfg}}
        - {name: xtables-lock, hostPath: {path: /run/xtables.lock, type: FileOrCreate}}
</#if>
