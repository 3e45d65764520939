// Package nodes builds the Node objects that Serin's test control planes register: KWOK's fake
// nodes (test/cluster) and the pod runner's (test/kubelet). Both are linux/amd64 Nodes large
// enough that scheduling never depends on resources; they differ only in the labels and
// annotations that callers add with options.
package nodes
