package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitImage(t *testing.T) {
	for image, want := range map[string][2]string{
		"ghcr.io/stefanprodan/podinfo:6.0.1":        {"ghcr.io/stefanprodan/podinfo", "6.0.1"},
		"localhost:5000/podinfo":                    {"localhost:5000/podinfo", ""},
		"podinfo@sha256:abc":                        {"podinfo", ""},
		"ghcr.io/serin-dev/serin-loadtester:latest": {"ghcr.io/serin-dev/serin-loadtester", "latest"},
	} {
		repo, tag := splitImage(image)
		assert.Equal(t, want, [2]string{repo, tag}, image)
	}
}
