package shlex

import (
	"errors"
	"strings"
)

// Kind tells a word from an operator.
type Kind int

const (
	// Word is an argument, with its quotes and escapes removed.
	Word Kind = iota
	// Operator is a control operator (|, &&, ;, newline, parentheses, ...)
	// or a redirection operator (<, >, >>, 2>&1's >&, ...).
	Operator
)

// Token is one word or operator of a command line.
type Token struct {
	// Kind tells whether Text is a word or an operator.
	Kind Kind
	// Text is the word without quotes and escapes, or the operator.
	Text string
	// Expands is true when the shell would expand part of the word: an
	// unquoted or double-quoted $ or backquote.
	Expands bool
	// Substitutes is true when the word holds a command substitution, $(
	// or a backquote, which runs a command of its own.
	Substitutes bool
}

// ErrUnterminated is returned for a quote that is never closed.
var ErrUnterminated = errors.New("unterminated quote")

// operators in order of preference: longest first, so that "||" wins over "|".
var operators = []string{
	"&>>", "<<-", ";;", "&&", "||", "|&", "&>", ">>", ">&", ">|", "<<", "<&", "<>",
	"|", "&", ";", "(", ")", "<", ">", "\n",
}

// controlOperators separate commands; the other operators redirect.
var controlOperators = map[string]bool{
	";;": true, "&&": true, "||": true, "|&": true, "|": true, "&": true,
	";": true, "(": true, ")": true, "\n": true,
}

// IsControl reports whether op separates one command from the next.
func IsControl(op string) bool { return controlOperators[op] }

// Lex splits a command line into tokens. It fails only on an unterminated
// quote; the text after $( is lexed like any other, which is enough to flag
// it, not to run it.
func Lex(s string) ([]Token, error) {
	l := lexer{in: s}
	return l.run()
}

// Words returns the words of a command line; it fails on an operator, so
// that "a | b" is never taken for the arguments a, |, b.
func Words(s string) ([]Token, error) {
	toks, err := Lex(s)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if t.Kind == Operator {
			return nil, &OperatorError{Op: t.Text}
		}
	}
	return toks, nil
}

// OperatorError is returned by Words for a shell operator.
type OperatorError struct {
	// Op is the first operator found.
	Op string
}

// Error names the operator.
func (e *OperatorError) Error() string {
	return "shell operator " + strings.ReplaceAll(e.Op, "\n", `\n`) + " needs a shell"
}

// Texts returns the text of each token.
func Texts(toks []Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out
}

type lexer struct {
	in   string
	pos  int
	toks []Token

	word    strings.Builder
	inWord  bool
	expands bool
	substs  bool
}

func (l *lexer) run() ([]Token, error) {
	for l.pos < len(l.in) {
		c := l.in[l.pos]
		switch {
		case c == ' ' || c == '\t':
			l.endWord()
			l.pos++
		case c == '#' && !l.inWord:
			l.skipComment()
		case c == '\'':
			if err := l.singleQuoted(); err != nil {
				return nil, err
			}
		case c == '"':
			if err := l.doubleQuoted(); err != nil {
				return nil, err
			}
		case c == '\\':
			l.escaped()
		case c == '$' || c == '`':
			l.dollar(c)
		default:
			if op := l.operator(); op != "" {
				l.endWord()
				l.toks = append(l.toks, Token{Kind: Operator, Text: op})
				l.pos += len(op)
				continue
			}
			l.add(c)
			l.pos++
		}
	}
	l.endWord()
	return l.toks, nil
}

func (l *lexer) add(c byte) {
	l.inWord = true
	l.word.WriteByte(c)
}

func (l *lexer) endWord() {
	if !l.inWord {
		return
	}
	l.toks = append(l.toks, Token{Kind: Word, Text: l.word.String(), Expands: l.expands, Substitutes: l.substs})
	l.word.Reset()
	l.inWord, l.expands, l.substs = false, false, false
}

func (l *lexer) operator() string {
	for _, op := range operators {
		if strings.HasPrefix(l.in[l.pos:], op) {
			return op
		}
	}
	return ""
}

func (l *lexer) skipComment() {
	for l.pos < len(l.in) && l.in[l.pos] != '\n' {
		l.pos++
	}
}

// singleQuoted takes everything up to the next ' literally.
func (l *lexer) singleQuoted() error {
	end := strings.IndexByte(l.in[l.pos+1:], '\'')
	if end < 0 {
		return ErrUnterminated
	}
	l.inWord = true
	l.word.WriteString(l.in[l.pos+1 : l.pos+1+end])
	l.pos += end + 2
	return nil
}

// doubleQuoted honours the escapes POSIX keeps inside double quotes and
// flags expansions.
func (l *lexer) doubleQuoted() error {
	l.inWord = true
	l.pos++
	for l.pos < len(l.in) {
		c := l.in[l.pos]
		switch {
		case c == '"':
			l.pos++
			return nil
		case c == '\\' && l.pos+1 < len(l.in) && strings.IndexByte("$`\"\\\n", l.in[l.pos+1]) >= 0:
			if l.in[l.pos+1] != '\n' {
				l.word.WriteByte(l.in[l.pos+1])
			}
			l.pos += 2
		case c == '$' || c == '`':
			l.dollar(c)
		default:
			l.word.WriteByte(c)
			l.pos++
		}
	}
	return ErrUnterminated
}

// escaped handles a backslash outside quotes: the next character is
// literal, and backslash-newline joins lines.
func (l *lexer) escaped() {
	if l.pos+1 >= len(l.in) {
		l.add('\\')
		l.pos++
		return
	}
	if next := l.in[l.pos+1]; next != '\n' {
		l.add(next)
	}
	l.pos += 2
}

// dollar keeps $ and backquotes in the word and flags them: a lone $ at the
// end of a word is literal to the shell, anything else expands.
func (l *lexer) dollar(c byte) {
	l.add(c)
	l.pos++
	if c == '`' {
		l.expands, l.substs = true, true
		return
	}
	if l.pos < len(l.in) {
		next := l.in[l.pos]
		if next == '(' {
			l.expands, l.substs = true, true
			l.add(next)
			l.pos++
			return
		}
		if next == '{' || next == '_' || isAlnum(next) || strings.IndexByte("@*#?-$!", next) >= 0 {
			l.expands = true
		}
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
