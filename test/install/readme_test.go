package install

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// readmeBlocks returns the fenced code blocks of a language (sh, yaml) in
// the README's Install section, in order, each as its lines.
func readmeBlocks(t *testing.T, lang string) [][]string {
	t.Helper()
	return readmeSectionBlocks(t, "Install", lang)
}

// readmeSectionBlocks returns the fenced code blocks of a language in the
// README's section "## section", in order, each as its lines.
func readmeSectionBlocks(t *testing.T, section, lang string) [][]string {
	t.Helper()
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	var (
		blocks    [][]string
		block     []string
		inSection bool
		fence     string // the language of the open block; "" outside blocks
	)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case fence == "" && strings.HasPrefix(line, "## "):
			inSection = line == "## "+section
		case !inSection:
		case fence == "" && strings.HasPrefix(line, "```"):
			fence, block = strings.TrimPrefix(line, "```"), nil
			require.NotEmpty(t, fence, "README.md: Install blocks name their language")
		case line == "```":
			if fence == lang {
				blocks = append(blocks, block)
			}
			fence = ""
		case fence != "":
			block = append(block, line)
		}
	}
	require.NotEmpty(t, blocks, "README.md has no %s block in its %s section", lang, section)
	return blocks
}

// commands splits a block of shell lines into kubectl argument lists. The
// README keeps its commands plain (no quotes, pipes or variables) so that
// they run here exactly as a user types them.
func commands(t *testing.T, block []string) [][]string {
	t.Helper()
	var cmds [][]string
	for _, line := range block {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.NotContains(t, line, `"`, "quoting would not survive a plain split: %s", line)
		require.NotContains(t, line, "'", "quoting would not survive a plain split: %s", line)
		fields := strings.Fields(line)
		require.Equal(t, "kubectl", fields[0], "the Install section runs only kubectl: %s", line)
		cmds = append(cmds, fields[1:])
	}
	return cmds
}
