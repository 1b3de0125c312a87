package actionserver

import (
	"errors"
	"strings"
)

// bashSplitCommands cuts text into the top-level commands an interactive shell would prompt for
// separately, as OpenHands counts them (it asks bashlex): newline-separated statements are separate
// commands, while "a && b", "a; b", pipelines, compound commands spanning lines (if, for, while,
// case, { }, ( )), heredocs, backslash-continued lines, lines ending in && || | and newlines inside
// quotes or $( ) all belong to one command. Comment and blank lines after a command stay with it; a
// comment before the first command counts as a command of its own, as in OpenHands (the shell
// prompts for it separately). Text the scanner cannot make sense of is one command. Empty text gives
// [""].
func bashSplitCommands(text string) []string {
	if strings.TrimSpace(text) == "" {
		return []string{""}
	}
	lx := &bashLexer{s: text}
	spans, err := lx.statements(false)
	if err != nil || lx.i < len(text) {
		return []string{text}
	}

	// Glue what lies between statements (comments, blank lines) the way OpenHands does.
	var out []string
	last := 0
	for _, sp := range spans {
		if sp[0] > last {
			between := strings.TrimRight(text[last:sp[0]], bashSpaceChars)
			if len(out) > 0 {
				out[len(out)-1] += between
			} else if strings.TrimSpace(between) != "" {
				out = append(out, between)
			}
		}
		out = append(out, strings.TrimRight(text[sp[0]:sp[1]], bashSpaceChars))
		last = sp[1]
	}
	if rest := strings.TrimRight(text[last:], bashSpaceChars); last < len(text) {
		if len(out) > 0 {
			out[len(out)-1] += rest
		} else if rest != "" {
			out = append(out, rest)
		}
	}
	return out
}

const bashSpaceChars = " \t\n\r\v\f"

var errBashSyntax = errors.New("unbalanced shell syntax")

// bashLexer is just enough of a shell tokenizer to find statement boundaries: it tracks quotes,
// escapes, substitutions, heredocs and the nesting of compound commands, and nothing else.
type bashLexer struct {
	s        string
	i        int
	heredocs []bashHeredoc // announced on the current line, bodies start after its newline
}

type bashHeredoc struct {
	delim     string
	stripTabs bool
}

// bashOperators, longest first so that prefixes do not shadow them.
var bashOperators = []string{
	";;&", "&>>", "<<-", "<<<",
	"&&", "||", ";;", ";&", "|&", "<<", ">>", "<&", ">&", "<>", ">|", "&>", "<(", ">(",
	"|", "&", ";", "(", ")", "<", ">",
}

// statements scans a list of commands. At top level (nested false) it returns the [start, end) span
// of every newline-terminated statement; nested (inside $( )) it stops before the closing paren.
func (lx *bashLexer) statements(nested bool) ([][2]int, error) {
	var (
		spans      [][2]int
		stack      []string // closers expected: fi, done, esac, }, )
		cmdPos     = true   // the next word may be a reserved word
		contOp     bool     // the last token was && || | |&: a newline does not end the statement
		caseHeader bool     // between "case" and "in"
		funcName   bool     // the next word names a function
		afterFor   bool     // "for ((" is arithmetic
		start      = -1
		end        int
	)
	top := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1]
	}
	s := lx.s
	for lx.i < len(s) {
		c := s[lx.i]
		switch {
		case c == ' ' || c == '\t':
			lx.i++
			continue
		case c == '\\' && lx.i+1 < len(s) && s[lx.i+1] == '\n':
			lx.i += 2
			continue
		case c == '\n':
			lx.i++
			if len(lx.heredocs) > 0 {
				if err := lx.readHeredocs(); err != nil {
					return nil, err
				}
				end = lx.i
				if s[end-1] == '\n' {
					end--
				}
			}
			if !nested && len(stack) == 0 && !contOp && start >= 0 {
				spans = append(spans, [2]int{start, end})
				start = -1
			}
			cmdPos = true
			continue
		case c == '#':
			for lx.i < len(s) && s[lx.i] != '\n' {
				lx.i++
			}
			continue
		case c == ')' && nested && len(stack) == 0:
			return spans, nil
		}

		if start < 0 {
			start = lx.i
		}
		if op := lx.operator(); op != "" {
			if (op == "(" && (cmdPos || afterFor)) && strings.HasPrefix(s[lx.i:], "((") {
				if err := lx.arith(); err != nil {
					return nil, err
				}
				end, cmdPos, contOp, afterFor = lx.i, false, false, false
				continue
			}
			lx.i += len(op)
			end = lx.i
			contOp = false
			afterFor = false
			switch op {
			case "&&", "||", "|", "|&":
				contOp, cmdPos = true, true
			case ";", "&", ";;", ";&", ";;&":
				cmdPos = true
			case "(", "<(", ">(":
				stack = append(stack, ")")
				cmdPos = true
			case ")":
				switch top() {
				case ")":
					stack = stack[:len(stack)-1]
				case "esac": // the end of a case pattern
				default:
					return nil, errBashSyntax
				}
				cmdPos = true
			case "<<", "<<-":
				if err := lx.heredocStart(op == "<<-"); err != nil {
					return nil, err
				}
				end = lx.i
			}
			continue
		}

		wordStart := lx.i
		plain, err := lx.word()
		if err != nil {
			return nil, err
		}
		end = lx.i
		contOp = false
		afterFor = false
		w := s[wordStart:lx.i]
		if !plain {
			cmdPos = false
			continue
		}
		switch {
		case funcName:
			funcName, cmdPos = false, true
		case caseHeader && w == "in":
			caseHeader, cmdPos = false, true
		case !cmdPos:
		case w == "if":
			stack = append(stack, "fi")
		case w == "then" || w == "else" || w == "elif" || w == "do" || w == "!" || w == "time":
		case w == "while" || w == "until":
			stack = append(stack, "done")
		case w == "for" || w == "select":
			stack = append(stack, "done")
			cmdPos, afterFor = false, w == "for"
		case w == "case":
			stack = append(stack, "esac")
			cmdPos, caseHeader = false, true
		case w == "{":
			stack = append(stack, "}")
		case w == "function":
			cmdPos, funcName = false, true
		case w == "fi" || w == "done" || w == "esac" || w == "}":
			if top() != w {
				return nil, errBashSyntax
			}
			stack = stack[:len(stack)-1]
			cmdPos = false
		default:
			cmdPos = false
		}
	}
	if nested || len(stack) > 0 || len(lx.heredocs) > 0 {
		return nil, errBashSyntax
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, end})
	}
	return spans, nil
}

// operator returns the operator at the cursor, or "".
func (lx *bashLexer) operator() string {
	rest := lx.s[lx.i:]
	for _, op := range bashOperators {
		if strings.HasPrefix(rest, op) {
			return op
		}
	}
	return ""
}

func bashIsMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

// word scans one word; plain reports that it has no quoting or expansion (so it may be a reserved
// word).
func (lx *bashLexer) word() (plain bool, err error) {
	s := lx.s
	plain = true
	for lx.i < len(s) && !bashIsMeta(s[lx.i]) {
		switch s[lx.i] {
		case '\\':
			plain = false
			lx.i += 2
		case '\'':
			plain = false
			if err := lx.singleQuoted(); err != nil {
				return false, err
			}
		case '"':
			plain = false
			if err := lx.doubleQuoted(); err != nil {
				return false, err
			}
		case '`':
			plain = false
			if err := lx.backquoted(); err != nil {
				return false, err
			}
		case '$':
			plain = false
			if err := lx.dollar(); err != nil {
				return false, err
			}
		default:
			lx.i++
		}
	}
	if lx.i > len(s) {
		lx.i = len(s)
	}
	return plain, nil
}

func (lx *bashLexer) singleQuoted() error {
	j := strings.IndexByte(lx.s[lx.i+1:], '\'')
	if j < 0 {
		return errBashSyntax
	}
	lx.i += j + 2
	return nil
}

func (lx *bashLexer) doubleQuoted() error {
	s := lx.s
	lx.i++
	for lx.i < len(s) {
		switch s[lx.i] {
		case '\\':
			lx.i += 2
		case '"':
			lx.i++
			return nil
		case '`':
			if err := lx.backquoted(); err != nil {
				return err
			}
		case '$':
			if err := lx.dollar(); err != nil {
				return err
			}
		default:
			lx.i++
		}
	}
	return errBashSyntax
}

func (lx *bashLexer) backquoted() error {
	s := lx.s
	for lx.i++; lx.i < len(s); {
		switch s[lx.i] {
		case '\\':
			lx.i += 2
		case '`':
			lx.i++
			return nil
		default:
			lx.i++
		}
	}
	return errBashSyntax
}

// dollar scans an expansion starting at '$'.
func (lx *bashLexer) dollar() error {
	s := lx.s
	rest := s[lx.i:]
	switch {
	case strings.HasPrefix(rest, "$(("):
		lx.i++
		return lx.arith()
	case strings.HasPrefix(rest, "$("):
		lx.i += 2
		if _, err := lx.statements(true); err != nil {
			return err
		}
		if lx.i >= len(s) || s[lx.i] != ')' {
			return errBashSyntax
		}
		lx.i++
		return nil
	case strings.HasPrefix(rest, "${"):
		lx.i += 2
		for depth := 1; lx.i < len(s); {
			switch s[lx.i] {
			case '\\':
				lx.i += 2
			case '\'':
				if err := lx.singleQuoted(); err != nil {
					return err
				}
			case '"':
				if err := lx.doubleQuoted(); err != nil {
					return err
				}
			case '$':
				if err := lx.dollar(); err != nil {
					return err
				}
			case '{':
				depth++
				lx.i++
			case '}':
				depth--
				lx.i++
				if depth == 0 {
					return nil
				}
			default:
				lx.i++
			}
		}
		return errBashSyntax
	case strings.HasPrefix(rest, "$'"):
		for lx.i += 2; lx.i < len(s); {
			switch s[lx.i] {
			case '\\':
				lx.i += 2
			case '\'':
				lx.i++
				return nil
			default:
				lx.i++
			}
		}
		return errBashSyntax
	case strings.HasPrefix(rest, "$\""):
		lx.i++
		return lx.doubleQuoted()
	}
	lx.i++
	return nil
}

// arith scans "((" … "))" by counting parentheses.
func (lx *bashLexer) arith() error {
	s := lx.s
	for depth := 0; lx.i < len(s); {
		switch s[lx.i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				lx.i++
				return nil
			}
		case '\'':
			if err := lx.singleQuoted(); err != nil {
				return err
			}
			continue
		case '"':
			if err := lx.doubleQuoted(); err != nil {
				return err
			}
			continue
		case '$':
			if strings.HasPrefix(s[lx.i:], "$(") && !strings.HasPrefix(s[lx.i:], "$((") {
				if err := lx.dollar(); err != nil {
					return err
				}
				continue
			}
		}
		lx.i++
	}
	return errBashSyntax
}

// heredocStart reads the delimiter word after << or <<-.
func (lx *bashLexer) heredocStart(stripTabs bool) error {
	s := lx.s
	for lx.i < len(s) && (s[lx.i] == ' ' || s[lx.i] == '\t') {
		lx.i++
	}
	start := lx.i
	if _, err := lx.word(); err != nil {
		return err
	}
	raw := s[start:lx.i]
	if raw == "" {
		return errBashSyntax
	}
	// The delimiter is the word after quote removal.
	var d strings.Builder
	for j := 0; j < len(raw); j++ {
		switch raw[j] {
		case '\'', '"':
		case '\\':
			if j+1 < len(raw) {
				j++
				d.WriteByte(raw[j])
			}
		default:
			d.WriteByte(raw[j])
		}
	}
	lx.heredocs = append(lx.heredocs, bashHeredoc{delim: d.String(), stripTabs: stripTabs})
	return nil
}

// readHeredocs consumes the bodies announced on the line that just ended.
func (lx *bashLexer) readHeredocs() error {
	s := lx.s
	for _, h := range lx.heredocs {
		for {
			if lx.i >= len(s) {
				return errBashSyntax // bash would wait for the delimiter
			}
			nl := strings.IndexByte(s[lx.i:], '\n')
			line := s[lx.i:]
			next := len(s)
			if nl >= 0 {
				line = s[lx.i : lx.i+nl]
				next = lx.i + nl + 1
			}
			check := line
			if h.stripTabs {
				check = strings.TrimLeft(check, "\t")
			}
			lx.i = next
			if check == h.delim {
				break
			}
		}
	}
	lx.heredocs = lx.heredocs[:0]
	return nil
}
