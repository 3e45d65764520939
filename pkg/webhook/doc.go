// Package webhook calls a canary's webhooks the way Flagger does: it builds
// Flagger's JSON payload (and the event payload of event hooks and of the
// global -event-webhook), POSTs it, treats only 200, 201 and 202 as success,
// and retries connection errors, 429 and 5xx with exponential backoff.
// Deciding which hooks run when, and what a failure means, is the caller's
// business. Config.Egress bounds where the calls may go (package egress,
// -webhook-allowed-hosts); a refused call fails at once, naming the hook.
package webhook
