package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// window is a time range [from, to) of one phase.
type window struct {
	from, to time.Time
}

func (w window) contains(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func (w window) duration() time.Duration { return w.to.Sub(w.from) }

// requests counts API requests by "verb resource[/subresource]".
type requests map[string]int

// total returns the number of requests.
func (r requests) total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// auditEvent is the part of an audit.k8s.io/v1 Event the bench reads.
type auditEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
}

// key names the request kind: verb and resource, or the path of a
// non-resource request such as discovery.
func (e *auditEvent) key() string {
	if e.ObjectRef == nil || e.ObjectRef.Resource == "" {
		return e.Verb + " " + e.RequestURI
	}
	if e.ObjectRef.Subresource != "" {
		return e.Verb + " " + e.ObjectRef.Resource + "/" + e.ObjectRef.Subresource
	}
	return e.Verb + " " + e.ObjectRef.Resource
}

// countRequests reads the audit log once and counts user's requests that
// were received in each window. Every request is counted once: a watch at
// its first stage (the response starts, or it fails at once), any other
// request when it completes (the policy omits the RequestReceived stage).
func countRequests(path, user string, windows []window) ([]requests, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	counts := make([]requests, len(windows))
	for i := range counts {
		counts[i] = requests{}
	}
	watches := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if e.User.Username != user || !counted(&e, watches) {
			continue
		}
		for i, w := range windows {
			if w.contains(e.RequestReceived) {
				counts[i][e.key()]++
			}
		}
	}
	return counts, sc.Err()
}

func counted(e *auditEvent, watches map[string]bool) bool {
	if e.Verb != "watch" {
		return e.Stage == "ResponseComplete"
	}
	if watches[e.AuditID] {
		return false
	}
	watches[e.AuditID] = true
	return true
}
