package tutorial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/stack"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// Manifests is the directory of this package's manifests, relative to the repository root.
const Manifests = "test/demo/manifests"

// Env is a stack prepared for the tutorial.
type Env struct {
	Stack   *stack.Stack
	Flagger clientset.Interface
	Gateway gatewayclient.Interface
	// Out receives what the tutorial's reader would see.
	Out io.Writer
	// Root is the repository root.
	Root string
}

// NewEnv wraps a running stack.
func NewEnv(s *stack.Stack, out io.Writer) (*Env, error) {
	root, err := testbin.RepoRoot()
	if err != nil {
		return nil, err
	}
	e := &Env{Stack: s, Out: out, Root: root}
	if e.Flagger, err = clientset.NewForConfig(s.Cluster.Config); err != nil {
		return nil, err
	}
	if e.Gateway, err = gatewayclient.NewForConfig(s.Cluster.Config); err != nil {
		return nil, err
	}
	return e, nil
}

// Printf writes a line for the reader.
func (e *Env) Printf(format string, args ...any) {
	fmt.Fprintf(e.Out, format+"\n", args...)
}

// manifest reads one of this package's manifest files.
func (e *Env) manifest(name string) ([]*unstructured.Unstructured, error) {
	return manifest.ReadFiles(filepath.Join(e.Root, Manifests, name))
}

// kustomization renders kustomize/<name> when it exists, else this package's fallback
// <name>.yaml with the same objects.
func (e *Env) kustomization(name string) ([]*unstructured.Unstructured, string, error) {
	dir := filepath.Join(e.Root, "kustomize", name)
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		objs, err := stack.Kustomize(dir)
		return objs, "kustomize/" + name, err
	}
	objs, err := e.manifest(name + ".yaml")
	return objs, filepath.Join(Manifests, name+".yaml"), err
}

// InstallShared applies what the tutorial installs once: the Gateway for Traefik, the
// MetricTemplates (pointed at the stack's Prometheus) and the load tester in namespace test.
func (e *Env) InstallShared(ctx context.Context) error {
	gw, err := e.manifest("gateway.yaml")
	if err != nil {
		return err
	}
	e.Printf("$ kubectl apply -f %s/gateway.yaml   # GatewayClass traefik, Gateway traefik/gateway", Manifests)
	if err := e.Stack.Apply(ctx, "", gw...); err != nil {
		return err
	}
	templates, err := e.manifest("metric-templates.yaml")
	if err != nil {
		return err
	}
	for _, t := range templates {
		if err := unstructured.SetNestedField(t.Object, e.Stack.PrometheusURL, "spec", "provider", "address"); err != nil {
			return err
		}
	}
	e.Printf("$ kubectl apply -f %s/metric-templates.yaml   # Traefik queries; address: %s", Manifests, e.Stack.PrometheusURL)
	if err := e.Stack.Apply(ctx, "", templates...); err != nil {
		return err
	}
	tester, from, err := e.kustomization("tester")
	if err != nil {
		return err
	}
	e.Printf("$ kubectl apply -k %s", from)
	if err := e.Stack.Apply(ctx, "test", tester...); err != nil {
		return err
	}
	if err := e.WaitAvailable(ctx, "test", "flagger-loadtester", 2*time.Minute); err != nil {
		return err
	}
	return e.waitGatewayProgrammed(ctx, 2*time.Minute)
}

// InstallApp applies podinfo in namespace ns and waits until it is available.
func (e *Env) InstallApp(ctx context.Context, ns string) error {
	app, from, err := e.kustomization("podinfo")
	if err != nil {
		return err
	}
	e.Printf("$ kubectl apply -k %s -n %s", from, ns)
	if err := e.Stack.Apply(ctx, ns, app...); err != nil {
		return err
	}
	return e.WaitAvailable(ctx, ns, "podinfo", 2*time.Minute)
}

// ApplyCanary applies the tutorial's Canary in namespace ns, changed by edit if not nil.
func (e *Env) ApplyCanary(ctx context.Context, ns string, edit func(*unstructured.Unstructured) error) error {
	objs, err := e.manifest("canary.yaml")
	if err != nil {
		return err
	}
	cd := objs[0]
	cd.SetNamespace(ns)
	if edit != nil {
		if err := edit(cd); err != nil {
			return err
		}
	}
	e.Printf("$ kubectl apply -f %s/canary.yaml -n %s", Manifests, ns)
	return e.Stack.Apply(ctx, ns, cd)
}

// WaitAvailable waits until a Deployment has all its replicas updated and available.
func (e *Env) WaitAvailable(ctx context.Context, ns, name string, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, string, error) {
		d, err := e.Stack.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		ok := d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == want
		return ok, fmt.Sprintf("deployment %s/%s: %d/%d available", ns, name, d.Status.AvailableReplicas, want), nil
	})
}

// waitGatewayProgrammed waits until Traefik has accepted and programmed the Gateway.
func (e *Env) waitGatewayProgrammed(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, string, error) {
		gw, err := e.Gateway.GatewayV1().Gateways("traefik").Get(ctx, "gateway", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		for _, c := range gw.Status.Conditions {
			if c.Type == "Programmed" && c.Status == metav1.ConditionTrue {
				return true, "", nil
			}
		}
		return false, "gateway traefik/gateway is not Programmed yet", nil
	})
}

// poll calls cond every 250 ms until it is done, fails, or timeout or ctx ends; the error then
// carries the last state cond described.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		done, state, err := cond()
		if err != nil {
			last = err.Error()
		} else if done {
			return nil
		} else {
			last = state
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s: %s", timeout, last)
			}
			return fmt.Errorf("%w: %s", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitServed waits until the gateway answers requests for host with 200 five times in a row:
// the route Serin created is live in Traefik. (Initialized only says it exists in the API.)
func (e *Env) WaitServed(ctx context.Context, host string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	streak := 0
	return poll(ctx, timeout, func() (bool, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Stack.GatewayURL+"/", nil)
		if err != nil {
			return false, "", err
		}
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			streak = 0
			return false, "", err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			streak = 0
			return false, fmt.Sprintf("the gateway answers %s for host %s", resp.Status, host), nil
		}
		streak++
		return streak >= 5, "", nil
	})
}
