package notifier

import (
	"fmt"
	"sync"

	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// unresolvedType is the metric label of a delivery whose AlertProvider could
// not be read, so its type is unknown.
const unresolvedType = "unresolved"

// Keys of an AlertProvider's Secret.
const (
	secretAddressKey = "address"
	secretTokenKey   = "token"
)

// resolve returns the notifier of an analysis.alerts providerRef, read from
// the listers; the namespace defaults to the canary's.
func (d *Dispatcher) resolve(cd *flaggerv1.Canary, ref flaggerv1.CrossNamespaceObjectReference) (namedNotifier, error) {
	key := cache.ObjectName{Namespace: ref.Namespace, Name: ref.Name}
	if key.Namespace == "" {
		key.Namespace = cd.Namespace
	}
	named := namedNotifier{name: key.String(), typ: unresolvedType}
	if d.noCrossNS && key.Namespace != cd.Namespace {
		return named, fmt.Errorf("providerRef %s: AlertProvider in another namespace; cross-namespace references are blocked (-no-cross-namespace-refs)", key)
	}
	provider, err := d.providers.AlertProviders(key.Namespace).Get(key.Name)
	if err != nil {
		return named, err
	}
	named.typ = provider.Spec.Type
	address, token, err := d.credentials(provider)
	if err != nil {
		return named, err
	}
	named.notifier, err = d.built.get(key, settingsOf(provider.Spec, address, token), d.cfg)
	return named, err
}

// credentials returns the address and token of a provider: spec.address, or
// the address and token keys of its secretRef Secret, which must have an
// address.
func (d *Dispatcher) credentials(p *flaggerv1.AlertProvider) (address, token string, err error) {
	if p.Spec.SecretRef == nil {
		return p.Spec.Address, "", nil
	}
	secret, err := d.secrets.Get(p.Namespace, p.Spec.SecretRef.Name)
	if err != nil {
		return "", "", fmt.Errorf("secretRef: %w", err)
	}
	address = string(secret.Data[secretAddressKey])
	if address == "" {
		return "", "", fmt.Errorf("secret %s/%s has no %q key", p.Namespace, secret.Name, secretAddressKey)
	}
	return address, string(secret.Data[secretTokenKey]), nil
}

// settings are everything a notifier is built from; equal settings build
// interchangeable notifiers.
type settings struct {
	typ, channel, username, proxy, address, token string
}

func settingsOf(spec flaggerv1.AlertProviderSpec, address, token string) settings {
	return settings{
		typ: spec.Type, channel: spec.Channel, username: spec.Username, proxy: spec.Proxy,
		address: address, token: token,
	}
}

// notifierCache keeps one notifier per AlertProvider, rebuilt when its
// settings change (an edited spec, a rotated Secret), so that connections
// are reused across alerts.
//
// Unlike Flagger, which builds a new notifier for every alert (and, for a
// provider with a proxy, a new transport, so no connection is ever reused).
type notifierCache struct {
	mu      sync.Mutex
	entries map[cache.ObjectName]cachedNotifier
}

type cachedNotifier struct {
	settings settings
	notifier Notifier
}

func (c *notifierCache) get(key cache.ObjectName, s settings, cfg Config) (Notifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.settings == s {
		return e.notifier, nil
	}
	spec := flaggerv1.AlertProviderSpec{Type: s.typ, Channel: s.channel, Username: s.username, Proxy: s.proxy}
	n, err := New(spec, s.address, s.token, cfg)
	if err != nil {
		delete(c.entries, key)
		return nil, err
	}
	if c.entries == nil {
		c.entries = map[cache.ObjectName]cachedNotifier{}
	}
	c.entries[key] = cachedNotifier{settings: s, notifier: n}
	return n, nil
}
