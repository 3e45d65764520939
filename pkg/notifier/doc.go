// Package notifier delivers canary alerts to chat and webhook receivers: it
// builds Flagger's payloads for the slack, msteams, discord, rocket and gchat
// AlertProvider types (flagger-behaviour.md §6.2), POSTs them with a bounded
// timeout through an optional proxy, and routes each alert of a canary to the
// providers its analysis.alerts select by severity, or to the global
// notifiers of the operator's flags when it lists none (§6.1).
//
// Beyond Flagger, the generic type POSTs this JSON body, meant for
// Alertmanager webhook receivers, PagerDuty bridges and chat-ops bots:
//
//	{
//	  "name": "podinfo",                  // the Canary's name
//	  "namespace": "test",                // the Canary's namespace
//	  "severity": "info",                 // info, warn or error
//	  "message": "New revision detected, progressing canary analysis.",
//	  "fields": [                         // ordered; [] when there are none
//	    {"name": "Target", "value": "Deployment/podinfo.test"}
//	  ],
//	  "timestamp": "2026-01-02T15:04:05Z" // RFC 3339, UTC
//	}
//
// with Content-Type application/json and, when the provider's Secret has a
// token key, Authorization: Bearer <token>. Any 2xx answer is a success.
//
// Config.Egress bounds the addresses (and proxies) posted to, as it bounds
// webhooks (package webhook/egress, -webhook-allowed-hosts): an
// AlertProvider's author picks its address and proxy.
package notifier
