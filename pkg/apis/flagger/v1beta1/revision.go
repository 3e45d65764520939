package v1beta1

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// PromotedRevisionAnnotation is set by Serin on the <target>-primary
// Deployment, in the same write that gives it a pod template, to the
// revision (see RevisionID) whose template it runs. It lets every step know
// from the cluster alone whether a promotion's copy has already been made,
// so that a copy interrupted by a crash, a failed write or a leader
// hand-over is neither lost nor repeated.
const PromotedRevisionAnnotation = "serin.dev/promoted-revision"

// RevisionID names a revision of a target: its pod template hash (the format
// of status.lastAppliedSpec) and, when config tracking is on, the checksums
// of the ConfigMaps and Secrets it uses. Two revisions with the same template
// and different configs get different IDs; nil or empty configs add nothing.
func RevisionID(hash string, configs map[string]string) string {
	if len(configs) == 0 {
		return hash
	}
	keys := make([]string, 0, len(configs))
	for k := range configs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(configs[k])
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hash + "-" + hex.EncodeToString(sum[:4])
}

// AppliedRevision is the RevisionID of the revision the status records as
// under analysis (or last analysed): lastAppliedSpec and trackedConfigs.
func (s *CanaryStatus) AppliedRevision() string {
	var configs map[string]string
	if s.TrackedConfigs != nil {
		configs = *s.TrackedConfigs
	}
	return RevisionID(s.LastAppliedSpec, configs)
}
