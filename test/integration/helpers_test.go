package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/test/lib/manifest"
)

var (
	canaries        = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"}
	metricTemplates = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "metrictemplates"}
	alertProviders  = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "alertproviders"}
	gateways        = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1beta1", Resource: "gateways"}
)

// resourceFor maps the kinds the tests apply to their resources.
func resourceFor(t *testing.T, obj *unstructured.Unstructured) schema.GroupVersionResource {
	t.Helper()
	switch obj.GetKind() {
	case "Canary":
		return canaries
	case "MetricTemplate":
		return metricTemplates
	case "AlertProvider":
		return alertProviders
	case "Gateway":
		return gateways
	}
	t.Fatalf("no resource known for kind %s", obj.GetKind())
	return schema.GroupVersionResource{}
}

// ensureNamespace creates a namespace unless it exists.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// readObjects decodes every YAML document of a file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.ReadFiles(path)
	require.NoError(t, err)
	return objs
}

// decodeObjects decodes every YAML document of data.
func decodeObjects(t *testing.T, data string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.Decode(strings.NewReader(data))
	require.NoError(t, err)
	return objs
}
