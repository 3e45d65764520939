package shlex

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLex lexes arbitrary command lines: Lex fails only on an unterminated
// quote, its tokens are well formed, and Words agrees with it. Then the
// round trips: any list of words (the input split at commas), each quoted
// with single quotes or with double quotes and escapes, and joined by blanks
// or by an operator, lexes back to exactly those words, none of them
// expanding. That is what the allow-list relies on to know a command's
// program name.
func FuzzLex(f *testing.F) {
	for _, s := range []string{
		"", "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/",
		`curl -sd 'test' http://podinfo-canary:9898/token | grep token`,
		`bash -c "echo $HOME; ls" && kubectl get pods -l 'app=a b' >/dev/null 2>&1`,
		"a||b|&c;;d&>>e<<-f", `"a\"b\\c\d" 'x\y' \ z`, "$(id) `id` ${HOME} $ a$", "# comment\nnext",
		`'unterminated`, `"unterminated \"`, "a \\\nb", "(sub; shell)", "\x00\xff,\t,'',\"\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		toks, err := Lex(line)
		if err != nil {
			require.ErrorIs(t, err, ErrUnterminated)
			require.Nil(t, toks)
		}
		for _, tok := range toks {
			switch tok.Kind {
			case Operator:
				require.Contains(t, operators, tok.Text, "operator")
				require.False(t, tok.Expands || tok.Substitutes, "an operator does not expand")
			case Word:
				require.True(t, tok.Expands || !tok.Substitutes, "a substitution expands")
			default:
				require.Failf(t, "unknown token kind", "%v", tok)
			}
		}
		words, werr := Words(line)
		var opErr *OperatorError
		switch {
		case err != nil:
			require.ErrorIs(t, werr, ErrUnterminated)
		case slices.ContainsFunc(toks, func(t Token) bool { return t.Kind == Operator }):
			require.True(t, errors.As(werr, &opErr), "Words accepted an operator: %v", werr)
		default:
			require.NoError(t, werr)
			require.Equal(t, toks, words)
		}
		require.Len(t, Texts(toks), len(toks))

		want := strings.Split(line, ",")
		for _, quote := range []func(string) string{singleQuote, doubleQuote} {
			quoted := make([]string, len(want))
			for i, w := range want {
				quoted[i] = quote(w)
			}
			got, err := Words(strings.Join(quoted, " \t"))
			require.NoError(t, err)
			require.Equal(t, want, Texts(got))
			for _, tok := range got {
				require.False(t, tok.Expands, "quoted word %q expands", tok.Text)
			}
			got, err = Lex(strings.Join(quoted, "|"))
			require.NoError(t, err)
			require.Len(t, got, 2*len(want)-1, "words and operators")
			for i, tok := range got {
				if i%2 == 1 {
					require.Equal(t, Token{Kind: Operator, Text: "|"}, tok)
					continue
				}
				require.Equal(t, want[i/2], tok.Text)
			}
		}
	})
}

// singleQuote quotes s for a POSIX shell with single quotes, a quote itself
// being closed, escaped and reopened.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// doubleQuote quotes s with double quotes, escaping what they do not keep
// literal. A newline is literal inside them, but backslash-newline is not.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		if strings.IndexByte("$`\"\\", s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
