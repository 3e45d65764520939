package testbin

import (
	"fmt"
	"strings"
)

// MissingError is the error for test binaries that are not in the cache. It names the missing
// files and the command that builds them, `hack/testbin.sh target`, and says what that build
// costs when the cache is cold (cost, e.g. "about 9 minutes on 2 cores"), so that a failed test
// tells the developer what to run rather than skipping.
func MissingError(target, cost string, missing ...string) error {
	what, pronoun := "test binaries", "them"
	if len(missing) == 1 {
		what, pronoun = "test binary", "it"
	}
	return fmt.Errorf("%s missing: %s; build %s from the repository root with `%s %s` (or `make testbin`): "+
		"%s when cold, seconds once cached", what, strings.Join(missing, ", "), pronoun, Script, target, cost)
}
