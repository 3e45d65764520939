// Package loadtester is Serin's flagger-loadtester: an HTTP server that
// answers the webhooks of a canary analysis the way Flagger's load tester
// does, so existing Canary specs work unchanged. It runs the commands of
// rollout hooks (cmd in the background, de-duplicated and bounded by a
// timeout; bash, kubectl and helm while the webhook waits), serves the
// manual gates (/gate/... and /rollback/...) and exposes its own metrics.
//
// Beyond Flagger, plain hey commands are run by an in-process generator
// (package hey), so the image needs no hey binary; gate state is saved to a
// Store (a file, or a ConfigMap in-cluster) and survives a restart; and an
// allow-list of command prefixes can restrict what runs.
//
// # Security
//
// Without an allow-list (Config.AllowCmd, the -allow-cmd flag) the load
// tester is an open shell: anyone who can reach its Service can POST
// {"metadata":{"type":"bash","cmd":"..."}} and run any command with the
// pod's service account, network access and files, Flagger's load tester
// included. Restrict who can reach it (a NetworkPolicy admitting only the
// operator), give its service account no more than the commands need, and
// set -allow-cmd to the commands the canaries use.
//
// The allow-list is matched word by word against every command of a
// shell line: each side of a pipe, of && and ;, and inside parentheses must
// start with an allowed prefix, its program name must be literal, and
// command substitution ($(...) and backquotes) is refused. It is a guard,
// not a sandbox: a prefix allows every argument after it, so allowing
// "curl" allows "curl -o /any/file", and allowing "kubectl" allows "kubectl
// delete". Prefer prefixes as long as the commands allow, such as "hey -z"
// or "kubectl -n test get". kubectl and helm tasks are checked with the
// program name in front ("kubectl get pods"). A refused command is answered
// 403 with the reason, logged, and counted in
// serin_loadtester_commands_denied_total; the entry "*" (AllowAny) turns
// the list off, so that a manifest shipping a list can be opened by
// appending one argument. kustomize/tester ships hey, curl and grep, the
// tutorial's commands, and a NetworkPolicy admitting only the operator.
package loadtester
