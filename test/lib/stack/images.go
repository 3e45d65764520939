package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/serin-dev/serin/test/lib/kubelet"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// podinfoRelease is the podinfo that hack/testbin.sh builds; other tags are stamped builds.
const podinfoRelease = "6.9.2"

var validTag = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// images maps the images of the tutorial to local programs: podinfo:TAG to podinfo stamped
// with TAG as its version (built on first use, in about a second), and the load tester's image
// (Serin's or Flagger's) to the load tester built from this tree.
func images(podinfoDir, loadtester string) kubelet.Images {
	var mu sync.Mutex // one build at a time; testbin.sh also locks its cache
	return func(ctx context.Context, image string) (string, error) {
		repo, tag := splitImage(image)
		switch filepath.Base(repo) {
		case "podinfo":
			if tag == "" || tag == "latest" || tag == podinfoRelease {
				return filepath.Join(podinfoDir, "podinfo"), nil
			}
			if !validTag.MatchString(tag) {
				return "", fmt.Errorf("image %s: unusable tag", image)
			}
			mu.Lock()
			defer mu.Unlock()
			if err := buildPodinfo(ctx, tag); err != nil {
				return "", err
			}
			return filepath.Join(podinfoDir, "versions", tag, "podinfo"), nil
		case "serin-loadtester", "flagger-loadtester":
			return loadtester, nil
		}
		return "", fmt.Errorf("image %s has no local stand-in (known: podinfo, serin-loadtester, flagger-loadtester)", image)
	}
}

// splitImage splits an image reference into repository and tag (empty when absent); a digest
// is dropped.
func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image[:colon], image[colon+1:]
	}
	return image, ""
}

// buildPodinfo asks hack/testbin.sh for podinfo stamped with tag (a link of about a second,
// offline: the module and the build cache are there since podinfo itself was built).
func buildPodinfo(ctx context.Context, tag string) error {
	root, err := testbin.RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, testbin.Script), "podinfo@"+tag)
	cmd.Dir = root
	// Nothing may be fetched from inside the world: fail fast instead of waiting on DNS.
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building podinfo@%s: %w: %s", tag, err, strings.TrimSpace(string(out)))
	}
	return nil
}
