// Package splitmeter measures a traffic split where users see it: it sends a steady load of
// requests through the gateway, reads which backend Pod answered each one (podinfo reports its
// host name, which the pod runner sets to the Pod's name), and counts canary and primary
// answers and failures per window. Windows are opened by the caller, typically each time the
// HTTPRoute's weights change, and exclude a settling time at their start, during which the
// gateway may still apply the previous weights.
package splitmeter
