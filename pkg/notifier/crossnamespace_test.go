package notifier

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestNoCrossNamespaceRefs checks -no-cross-namespace-refs: a providerRef
// to another namespace is refused without reading it, the canary's own
// namespace (explicit or empty) is still served.
func TestNoCrossNamespaceRefs(t *testing.T) {
	local, shared := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	d := dispatcherFor(t, DispatcherConfig{NoCrossNamespaceRefs: true},
		newProvider("test", "chat", TypeSlack, local.URL),
		newProvider("flagger-system", "chat", TypeSlack, shared.URL))
	cd := newCanary(withAlert("", "", "chat"), withAlert("", "test", "chat"), withAlert("", "flagger-system", "chat"))

	err := d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo))

	assert.Len(t, local.requests(), 2)
	assert.Empty(t, shared.requests())
	var de *DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "flagger-system/chat", de.Provider)
	assert.ErrorContains(t, err, "cross-namespace references are blocked (-no-cross-namespace-refs)")
}
