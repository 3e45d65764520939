package notifier

import (
	"fmt"
	"strings"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Flagger's defaults for an AlertProvider without channel or username.
const (
	// DefaultChannel is the channel of a provider that sets none.
	DefaultChannel = "general"
	// DefaultUsername is the username of a provider that sets none.
	DefaultUsername = "flagger"
)

// Types are the supported provider types, in the CRD's order.
var Types = []string{TypeSlack, TypeMSTeams, TypeDiscord, TypeRocket, TypeGChat, TypeGeneric}

// New builds the notifier of an AlertProvider. address and token are the
// resolved credentials: the Secret's address and token keys when the
// provider has a secretRef; an empty address falls back to spec.address. The
// token is sent as a bearer by slack (for chat.postMessage) and generic only.
// An unknown type is an error wrapping ErrUnsupportedType.
func New(spec flaggerv1.AlertProviderSpec, address, token string, cfg Config) (Notifier, error) {
	if address == "" {
		address = spec.Address
	}
	channel, username := spec.Channel, spec.Username
	if channel == "" {
		channel = DefaultChannel
	}
	if username == "" {
		username = DefaultUsername
	}
	cfg = cfg.withDefaults()
	var (
		n   Notifier
		err error
	)
	switch spec.Type {
	case TypeSlack:
		n, err = newSlack(address, spec.Proxy, token, channel, username, cfg)
	case TypeDiscord:
		n, err = newDiscord(address, spec.Proxy, channel, username, cfg)
	case TypeRocket:
		n, err = newRocket(address, spec.Proxy, channel, username, cfg)
	case TypeMSTeams:
		n, err = newMSTeams(address, spec.Proxy, cfg)
	case TypeGChat:
		n, err = newGChat(address, spec.Proxy, cfg)
	case TypeGeneric:
		n, err = newGeneric(address, spec.Proxy, token, cfg)
	default:
		return nil, fmt.Errorf("%w %q: use one of %s", ErrUnsupportedType, spec.Type, strings.Join(Types, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s alert provider: %w", spec.Type, err)
	}
	return n, nil
}
