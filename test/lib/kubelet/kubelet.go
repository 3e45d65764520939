package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// Config configures Start.
type Config struct {
	// Client is the runner's API client (a cluster admin, as KWOK is in the test cluster).
	Client kubernetes.Interface
	// CAData is the cluster CA, written into Pods' service-account directories.
	CAData []byte
	// Nodes are the names of the Nodes to register and run Pods for.
	Nodes []string
	// Images maps container images to programs.
	Images Images
	// Dir holds one directory per Pod: its working directory, logs (<container>.log) and volumes.
	Dir string
	// Logf receives notable events; nil discards them.
	Logf func(format string, args ...any)
}

// Kubelet runs the Pods of its Nodes until Stop.
type Kubelet struct {
	client  kubernetes.Interface
	caData  []byte
	nodes   []string
	images  Images
	dir     string
	logf    func(format string, args ...any)
	clock   clock.Clock
	hostIP  string
	apiHost string
	apiPort string

	pods   corelisters.PodLister
	api    *http.Server
	queue  workqueue.TypedRateLimitingInterface[string]
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	runs  map[string]*podRun // by namespace/name
	ipams map[string]*ipam   // by node
	links int
}

// Start registers the Nodes, starts watching their Pods and returns once the Nodes are Ready.
// ctx bounds the start only.
func Start(ctx context.Context, cfg Config) (*Kubelet, error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	k := &Kubelet{
		client: cfg.Client, caData: cfg.CAData, nodes: cfg.Nodes, images: cfg.Images, dir: cfg.Dir, logf: logf,
		clock: clock.RealClock{}, hostIP: sandbox.GatewayIP,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "kubelet"}),
		runs: map[string]*podRun{}, ipams: map[string]*ipam{},
	}
	// In-cluster clients in Pods reach the API server through the kubernetes Service.
	if svc, err := cfg.Client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil {
		k.apiHost, k.apiPort = svc.Spec.ClusterIP, strconv.Itoa(int(svc.Spec.Ports[0].Port))
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(k.hostIP, strconv.Itoa(APIPort)))
	if err != nil {
		return nil, fmt.Errorf("kubelet API: %w", err)
	}
	if k.api, err = k.serveAPI(ln); err != nil {
		ln.Close()
		return nil, err
	}
	for _, n := range cfg.Nodes {
		if err := k.registerNode(ctx, n); err != nil {
			k.api.Close()
			return nil, err
		}
	}
	factory := informers.NewSharedInformerFactory(cfg.Client, 0)
	podInformer := factory.Core().V1().Pods()
	k.pods = podInformer.Lister()
	_, err = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    k.enqueue,
		UpdateFunc: func(_, obj any) { k.enqueue(obj) },
		DeleteFunc: k.enqueue,
	})
	if err != nil {
		k.api.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	factory.Start(runCtx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		cancel()
		k.api.Close()
		return nil, errors.New("kubelet: the Pod informer did not sync")
	}
	k.wg.Add(3)
	go func() { defer k.wg.Done(); k.heartbeatLoop(runCtx) }()
	for range 2 {
		go func() { defer k.wg.Done(); k.worker(runCtx) }()
	}
	go func() { <-runCtx.Done(); k.queue.ShutDown(); factory.Shutdown() }()
	return k, nil
}

// Stop kills every Pod's processes and stops the runner. The Pod objects stay as they are.
func (k *Kubelet) Stop() {
	k.cancel()
	k.api.Close()
	k.wg.Wait()
	k.mu.Lock()
	runs := make([]*podRun, 0, len(k.runs))
	for _, r := range k.runs {
		runs = append(runs, r)
	}
	k.mu.Unlock()
	for _, r := range runs {
		r.requestStop(0)
	}
	for _, r := range runs {
		<-r.done
	}
}

// PodLogs returns the path of a container's log.
func (k *Kubelet) PodLogs(namespace, pod, container string) string {
	return filepath.Join(k.dir, namespace+"_"+pod, container+".log")
}

func (k *Kubelet) podDir(pod *corev1.Pod) string {
	return filepath.Join(k.dir, pod.Namespace+"_"+pod.Name)
}

// nextLink names the world's end of a new veth pair.
func (k *Kubelet) nextLink() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.links++
	return fmt.Sprintf("svpod%d", k.links)
}

func (k *Kubelet) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		k.queue.Add(key)
	}
}

func (k *Kubelet) ours(node string) bool { return slices.Contains(k.nodes, node) }

func (k *Kubelet) worker(ctx context.Context) {
	for {
		key, quit := k.queue.Get()
		if quit {
			return
		}
		err := k.sync(ctx, key)
		var later requeueAfter
		switch {
		case err == nil:
			k.queue.Forget(key)
		case errors.As(err, &later):
			k.queue.Forget(key)
			k.queue.AddAfter(key, time.Duration(later))
		default:
			if ctx.Err() == nil {
				k.logf("kubelet: syncing %s: %v", key, err)
			}
			k.queue.AddRateLimited(key)
		}
		k.queue.Done(key)
	}
}

// requeueAfter asks for the key to be synced again after a while, without it being an error.
type requeueAfter time.Duration

func (r requeueAfter) Error() string { return "requeue after " + time.Duration(r).String() }
