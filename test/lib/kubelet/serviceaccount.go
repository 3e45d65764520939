package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// tokenSeconds is the lifetime of a Pod's token. The runner does not refresh tokens; an hour
// outlasts any test or demo.
const tokenSeconds = 3600

// volumeMounts resolves the volume mounts of a container: emptyDir volumes become directories
// under the Pod's directory, and the projected service-account volume that admission adds
// becomes a directory with a token bound to the Pod, the cluster CA and the namespace. Other
// volume types are not supported and are skipped.
func (k *Kubelet) volumeMounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, dir string) ([]sandbox.Mount, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	var mounts []sandbox.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			continue
		}
		src := filepath.Join(dir, "volumes", vm.Name)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(src, 0o777); err != nil {
				return nil, err
			}
		case v.Projected != nil && vm.MountPath == sandbox.ServiceAccountDir:
			if err := k.writeServiceAccount(ctx, pod, src); err != nil {
				return nil, err
			}
		default:
			k.logf("kubelet: %s/%s: volume %s is not supported here, not mounted", pod.Namespace, pod.Name, vm.Name)
			continue
		}
		mounts = append(mounts, sandbox.Mount{Source: src, Target: vm.MountPath})
	}
	return mounts, nil
}

// writeServiceAccount writes what client-go's in-cluster configuration reads.
func (k *Kubelet) writeServiceAccount(ctx context.Context, pod *corev1.Pod, dir string) error {
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To[int64](tokenSeconds),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	tok, err := k.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for file, content := range map[string][]byte{
		"token":     []byte(tok.Status.Token),
		"ca.crt":    k.caData,
		"namespace": []byte(pod.Namespace),
	} {
		if err := os.WriteFile(filepath.Join(dir, file), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
