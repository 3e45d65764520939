// Package sandbox gives the real-traffic tier of Serin's tests its network: a private "world"
// (a network and mount namespace of its own, in which the whole stack runs, so that nothing it
// binds or routes touches the machine's network and two stacks never collide) and, inside it,
// one network, UTS and mount namespace per Pod, with the Pod's IP on a veth pair, the Pod name as
// host name and the Pod's volumes mounted, in the way a container runtime would set them up.
//
// Programs that use it re-execute themselves: call Init first thing in main or TestMain. It
// needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2; Supported says why not.
package sandbox
