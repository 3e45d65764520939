package loadtester

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/serin-dev/serin/pkg/loadtester/shlex"
)

// DeniedError is returned for a command the allow-list rejects; the server
// answers it with 403.
type DeniedError struct {
	// Reason says what was rejected and why.
	Reason string
}

// Error says the command is not allowed, and why.
func (e *DeniedError) Error() string { return "command not allowed by -allow-cmd: " + e.Reason }

// AllowAny is the -allow-cmd entry that allows every command, as Flagger
// does. It exists so that a manifest which ships an allow-list can be opened
// by appending one argument, since -allow-cmd entries add up and cannot be
// removed by a later flag.
const AllowAny = "*"

// allowList holds the allowed command prefixes, each split into words. An
// empty list, or one holding AllowAny, allows everything.
type allowList struct {
	prefixes [][]string
	any      bool
}

func newAllowList(prefixes []string) (allowList, error) {
	var a allowList
	for _, p := range prefixes {
		if strings.TrimSpace(p) == AllowAny {
			a.any = true
			continue
		}
		words, err := shlex.Words(p)
		if err != nil {
			return allowList{}, fmt.Errorf("-allow-cmd %q: %w", p, err)
		}
		if len(words) == 0 {
			continue
		}
		a.prefixes = append(a.prefixes, shlex.Texts(words))
	}
	return a, nil
}

func (a allowList) enabled() bool { return len(a.prefixes) > 0 && !a.any }

// checkShell checks a command line that a shell will run: every command of
// it (each side of a pipe, of && and ;, inside parentheses) must start with
// an allowed prefix, its program name must be literal, and command
// substitution is refused because it runs commands no prefix describes.
func (a allowList) checkShell(line string) error {
	if !a.enabled() {
		return nil
	}
	toks, err := shlex.Lex(line)
	if err != nil {
		return &DeniedError{Reason: fmt.Sprintf("the command cannot be parsed: %v", err)}
	}
	var seg []shlex.Token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Substitutes:
			return &DeniedError{Reason: fmt.Sprintf("command substitution in %q", t.Text)}
		case t.Kind == shlex.Operator && shlex.IsControl(t.Text):
			if err := a.checkSegment(seg); err != nil {
				return err
			}
			seg = nil
		case t.Kind == shlex.Operator:
			i++ // a redirection: the next word is its target, not an argument
		default:
			seg = append(seg, t)
		}
	}
	return a.checkSegment(seg)
}

func (a allowList) checkSegment(seg []shlex.Token) error {
	if len(seg) == 0 {
		return nil
	}
	if seg[0].Expands {
		return &DeniedError{Reason: fmt.Sprintf("the program name %q is not literal", seg[0].Text)}
	}
	return a.checkWords(shlex.Texts(seg))
}

// checkWords checks one command, already split into words.
func (a allowList) checkWords(words []string) error {
	if !a.enabled() {
		return nil
	}
	for _, p := range a.prefixes {
		if len(words) >= len(p) && slices.Equal(words[:len(p)], p) {
			return nil
		}
	}
	return &DeniedError{Reason: fmt.Sprintf("%q does not start with an allowed prefix", strings.Join(words, " "))}
}

// CheckCommand reports whether the load tester started with these
// -allow-cmd entries would run a task of type typ (metadata.type, empty for
// cmd) with this command, as the server decides it: nil when it would, a
// *DeniedError saying why not, or another error for an entry or a command
// that cannot be parsed. It lets a manifest's allow-list be checked against
// the commands of the Canaries that use it without running them.
func CheckCommand(allowCmd []string, typ, command string) error {
	a, err := newAllowList(allowCmd)
	if err != nil {
		return err
	}
	switch typ {
	case "", TypeCmd, TypeBash:
		return a.checkShell(command)
	case TypeKubectl, TypeHelm, TypeHelmv3:
		bin, args, err := toolArgs(typ, command)
		if err != nil {
			return err
		}
		return a.checkWords(append([]string{bin}, args...))
	}
	return fmt.Errorf("unknown task type %s", typ)
}

// isDenied reports whether err is an allow-list rejection.
func isDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}
