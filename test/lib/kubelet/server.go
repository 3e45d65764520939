package kubelet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// APIPort is the port of the kubelet API that the runner serves on its nodes' address.
const APIPort = 10250

// followPoll is how often a followed log is checked for new output.
const followPoll = 200 * time.Millisecond

// serveAPI serves the part of the kubelet API that `kubectl logs` needs (containerLogs), over
// TLS with a throwaway self-signed certificate: the API server does not verify kubelets unless
// it is given --kubelet-certificate-authority. Requests are not authenticated; the address is
// inside the sandbox world.
func (k *Kubelet) serveAPI(ln net.Listener) (*http.Server, error) {
	cert, err := selfSigned(k.hostIP)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.containerLogs)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	return srv, nil
}

// containerLogs writes a container's log: the last tailLines lines if asked, then, with
// follow=true, what the container writes until the client goes away or the Pod is gone.
func (k *Kubelet) containerLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	f, err := os.Open(k.PodLogs(ns, pod, container))
	if errors.Is(err, os.ErrNotExist) {
		http.Error(w, "no log for "+ns+"/"+pod+"/"+container, http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil {
		data = tailLines(data, n)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(data)
	if r.URL.Query().Get("follow") != "true" {
		return
	}
	flusher, _ := w.(http.Flusher)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(followPoll):
		}
		if _, err := io.Copy(w, f); err != nil {
			return
		}
		k.mu.Lock()
		_, running := k.runs[ns+"/"+pod]
		k.mu.Unlock()
		if !running {
			return
		}
	}
}

// tailLines returns the last n lines of data.
func tailLines(data []byte, n int) []byte {
	if n < 0 {
		return data
	}
	if n == 0 {
		return nil
	}
	end := len(data)
	if end > 0 && data[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if data[i] == '\n' {
			if n--; n == 0 {
				return data[i+1:]
			}
		}
	}
	return data
}

// selfSigned makes a serving certificate for ip.
func selfSigned(ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "serin-local-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
