package loadtester

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// ConfigMapKey is the ConfigMap data key that holds the gate state.
const ConfigMapKey = "gates.json"

// ConfigMapStore keeps the gate state in a ConfigMap, for a load tester
// whose pod has no persistent volume. It needs get, create and update on
// ConfigMaps in its namespace.
type ConfigMapStore struct {
	// Client talks to the cluster.
	Client kubernetes.Interface
	// Namespace and Name locate the ConfigMap; it is created on first save.
	Namespace, Name string
}

var _ Store = ConfigMapStore{}

// Load reads the ConfigMap; a missing ConfigMap or key is an empty state.
// A direct GET, not a lister: it runs once, at start-up.
func (c ConfigMapStore) Load(ctx context.Context) ([]Gate, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", c.Namespace, c.Name, err)
	}
	data, ok := cm.Data[ConfigMapKey]
	if !ok {
		return nil, nil
	}
	return decodeState([]byte(data))
}

// Save creates or updates the ConfigMap, retrying when someone else wrote
// it meanwhile: our state wins, it is the one the load tester serves.
func (c ConfigMapStore) Save(ctx context.Context, open []Gate) error {
	b, err := encodeState(open)
	if err != nil {
		return err
	}
	cms := c.Client.CoreV1().ConfigMaps(c.Namespace)
	err = retry.OnError(retry.DefaultRetry, racedWrite, func() error {
		cm, err := cms.Get(ctx, c.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{
					Name:      c.Name,
					Namespace: c.Namespace,
					Labels:    map[string]string{"app.kubernetes.io/managed-by": "serin-loadtester"},
				},
				Data: map[string]string{ConfigMapKey: string(b)},
			}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		cm = cm.DeepCopy()
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[ConfigMapKey] = string(b)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("writing ConfigMap %s/%s: %w", c.Namespace, c.Name, err)
	}
	return nil
}

// racedWrite reports a write that lost a race and is worth retrying.
func racedWrite(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}
