package shlex

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func w(text string) Token  { return Token{Kind: Word, Text: text} }
func op(text string) Token { return Token{Kind: Operator, Text: text} }

func TestLex(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Token
	}{
		{"empty", "", nil},
		{"blanks", " \t ", nil},
		{"plain words", "hey -z 1m  -q 10\t-c 2 http://x/", []Token{w("hey"), w("-z"), w("1m"), w("-q"), w("10"), w("-c"), w("2"), w("http://x/")}},
		{"single quotes", `-H 'X-Canary: insider'`, []Token{w("-H"), w("X-Canary: insider")}},
		{"double quotes", `-H "X-Canary: insider"`, []Token{w("-H"), w("X-Canary: insider")}},
		{"quotes inside a word", `a'b c'"d e"f`, []Token{w("ab cd ef")}},
		{"empty quotes make a word", `-d '' x`, []Token{w("-d"), w(""), w("x")}},
		{"escaped blank", `a\ b`, []Token{w("a b")}},
		{"line continuation", "a \\\nb", []Token{w("a"), w("b")}},
		{"double-quote escapes", `"a\"b\\c\d"`, []Token{w(`a"b\c\d`)}},
		{"single quotes keep backslashes", `'a\b'`, []Token{w(`a\b`)}},
		{"query string is not a glob", "http://x/?a=1&b=2", []Token{w("http://x/?a=1"), op("&"), w("b=2")}},
		{"pipe", "curl -s x | grep token", []Token{w("curl"), w("-s"), w("x"), op("|"), w("grep"), w("token")}},
		{"or beats pipe", "a||b", []Token{w("a"), op("||"), w("b")}},
		{"and, semicolon, newline", "a && b; c\nd", []Token{w("a"), op("&&"), w("b"), op(";"), w("c"), op("\n"), w("d")}},
		{"redirections", "a >/dev/null 2>&1", []Token{w("a"), op(">"), w("/dev/null"), w("2"), op(">&"), w("1")}},
		{"comment", "a b # c d\ne", []Token{w("a"), w("b"), op("\n"), w("e")}},
		{"hash inside a word", "a#b", []Token{w("a#b")}},
		{"subshell", "(a)", []Token{op("("), w("a"), op(")")}},
		{"operators in quotes are text", `'a | b' "c;d"`, []Token{w("a | b"), w("c;d")}},
		{"trailing backslash", `a\`, []Token{w(`a\`)}},
		{"lone dollar", "a$ $", []Token{w("a$"), w("$")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lex(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLexExpansions(t *testing.T) {
	tests := []struct {
		in                   string
		expands, substitutes bool
	}{
		{"$HOME", true, false},
		{"${HOME}", true, false},
		{`"x $1"`, true, false},
		{`'$HOME'`, false, false},
		{`\$HOME`, false, false},
		{`"\$HOME"`, false, false},
		{"$(id)", true, true},
		{"`id`", true, true},
		{`"a $(id) b"`, true, true},
		{`'$(id)'`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			toks, err := Lex(tt.in)
			require.NoError(t, err)
			require.NotEmpty(t, toks)
			assert.Equal(t, tt.expands, toks[0].Expands, "Expands")
			assert.Equal(t, tt.substitutes, toks[0].Substitutes, "Substitutes")
		})
	}
}

func TestLexUnterminated(t *testing.T) {
	for _, in := range []string{`'a`, `"a`, `a "b\"`} {
		_, err := Lex(in)
		assert.ErrorIs(t, err, ErrUnterminated, in)
	}
}

func TestWords(t *testing.T) {
	toks, err := Words(`get pods -l 'app=a b'`)
	require.NoError(t, err)
	assert.Equal(t, []string{"get", "pods", "-l", "app=a b"}, Texts(toks))

	_, err = Words("get pods | wc -l")
	var opErr *OperatorError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, "|", opErr.Op)
	assert.Equal(t, "shell operator | needs a shell", err.Error())

	_, err = Words(`'a`)
	assert.ErrorIs(t, err, ErrUnterminated)
}

func TestIsControl(t *testing.T) {
	for _, s := range []string{"|", "||", "&&", ";", "&", "\n", "(", ")"} {
		assert.True(t, IsControl(s), s)
	}
	for _, s := range []string{">", ">>", "<", ">&", "2"} {
		assert.False(t, IsControl(s), s)
	}
}
