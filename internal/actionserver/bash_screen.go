package actionserver

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of what the screen keeps. OpenHands captures a tmux pane of 1,000 rows with a 10,000-line
// history, so only the last 11,000 rows of output can be recovered; the byte cap bounds memory when
// rows are long.
const (
	bashHistoryRows   = 11000
	bashScreenCols    = 1000
	bashMaxScreenSize = 4 << 20   // bytes of completed lines kept
	bashMaxLineRunes  = 256 << 10 // a longer line is wrapped
)

const (
	bashMarkerBegin = "###PS1JSON###"
	bashMarkerEnd   = "###PS1END###"
)

// bashScreen is the shell's terminal as OpenHands sees it through tmux capture-pane: output rendered
// line by line (escape sequences dropped, a carriage return moves back to the start of the line so
// progress bars overwrite themselves, lines right-trimmed), bounded to the last rows, with the prompt
// marker blocks found in it. It is not safe for concurrent use; bashProc guards it.
type bashScreen struct {
	nonce     string // a block counts only if it carries this session's nonce
	unbounded bool   // keep every line (output of a finished process, already bounded)

	lines  []string // completed lines, oldest first
	base   int      // absolute number of lines[0]: lines ever completed before it
	rows   int      // rows the lines take at bashScreenCols columns
	bytes  int      // bytes of lines
	blocks []bashBlock

	cur []rune // the line being written
	col int    // cursor column in cur

	esc      int // escape sequence state (bashEsc…)
	csiParam int
	csiHas   bool
	csiPriv  bool
	utf8Buf  []byte

	markers uint64 // prompt blocks recognised so far, ever
	changes uint64 // times the rendered text changed
}

// bashBlock is a recognised prompt block: the absolute line numbers of its begin and end markers.
type bashBlock struct {
	begin, end int
	meta       bashPromptMeta
}

// bashPromptMeta is what one prompt reported.
type bashPromptMeta struct {
	exitCode   int
	pid        int
	username   string
	hostname   string
	workingDir string
	pyPath     string
}

const (
	bashEscNone = iota
	bashEscStart
	bashEscCSI
	bashEscString    // OSC, DCS, SOS, PM, APC: up to BEL or ST
	bashEscStringEnd // ESC seen inside a string
	bashEscCharset   // one more byte follows
)

// write renders p.
func (s *bashScreen) write(p []byte) {
	for _, c := range p {
		switch s.esc {
		case bashEscStart:
			s.esc = bashEscNone
			switch c {
			case '[':
				s.esc, s.csiParam, s.csiHas, s.csiPriv = bashEscCSI, 0, false, false
			case ']', 'P', 'X', '^', '_':
				s.esc = bashEscString
			case '(', ')', '*', '+', '-', '.', '/', '#', '%', ' ':
				s.esc = bashEscCharset
			}
			continue
		case bashEscCSI:
			switch {
			case c >= '0' && c <= '9':
				if s.csiParam < 100000 {
					s.csiParam = s.csiParam*10 + int(c-'0')
				}
				s.csiHas = true
			case c == ';':
				// only the first parameter matters for what we interpret
			case c >= 0x3c && c <= 0x3f: // < = > ?
				s.csiPriv = true
			case c >= 0x40 && c <= 0x7e:
				s.esc = bashEscNone
				if !s.csiPriv {
					s.csi(c)
				}
			}
			continue
		case bashEscString:
			switch c {
			case 0x07:
				s.esc = bashEscNone
			case 0x1b:
				s.esc = bashEscStringEnd
			}
			continue
		case bashEscStringEnd, bashEscCharset:
			s.esc = bashEscNone
			continue
		}
		if c >= 0x80 || len(s.utf8Buf) > 0 {
			s.utf8Buf = append(s.utf8Buf, c)
			if !utf8.FullRune(s.utf8Buf) {
				continue
			}
			r, n := utf8.DecodeRune(s.utf8Buf)
			rest := s.utf8Buf[n:]
			s.utf8Buf = s.utf8Buf[:0]
			if r >= 0x80 && r < 0xa0 { // C1 controls
				r = -1
			}
			if r >= 0 {
				s.put(r)
			}
			if len(rest) > 0 { // an invalid lead byte: render the rest again
				again := append([]byte(nil), rest...)
				s.write(again)
			}
			continue
		}
		switch c {
		case '\n':
			s.newline()
		case '\r':
			s.col = 0
		case '\b':
			if s.col > 0 {
				s.col--
			}
		case '\t':
			s.put('\t')
		case 0x1b:
			s.esc = bashEscStart
		default:
			if c >= 0x20 && c != 0x7f {
				s.put(rune(c))
			}
		}
	}
}

func (s *bashScreen) put(r rune) {
	for len(s.cur) < s.col {
		s.cur = append(s.cur, ' ')
	}
	if s.col < len(s.cur) {
		s.cur[s.col] = r
	} else {
		s.cur = append(s.cur, r)
	}
	s.col++
	s.changes++
	if len(s.cur) >= bashMaxLineRunes {
		s.newline()
	}
}

// csi interprets the few control sequences that matter for line content.
func (s *bashScreen) csi(final byte) {
	n := s.csiParam
	switch final {
	case 'K': // erase in line
		switch n {
		case 0:
			if s.col < len(s.cur) {
				s.cur = s.cur[:s.col]
			}
		case 1:
			for i := 0; i < s.col && i < len(s.cur); i++ {
				s.cur[i] = ' '
			}
		case 2:
			s.cur = s.cur[:0]
		}
		s.changes++
	case 'G': // cursor to column
		if n > 0 {
			n--
		}
		s.col = n
	case 'C': // cursor forward
		s.col += max(n, 1)
	case 'D': // cursor back
		s.col = max(s.col-max(n, 1), 0)
	}
	s.col = min(s.col, bashMaxLineRunes)
}

// newline completes the current line.
func (s *bashScreen) newline() {
	line := strings.TrimRight(string(s.cur), " \t")
	s.cur, s.col = s.cur[:0], 0
	s.changes++
	s.lines = append(s.lines, line)
	s.rows += bashRowsOf(line)
	s.bytes += len(line)
	if line == bashMarkerEnd {
		s.recognise()
	}
	s.trim()
}

func bashRowsOf(line string) int {
	n := utf8.RuneCountInString(line)
	if n == 0 {
		return 1
	}
	return (n + bashScreenCols - 1) / bashScreenCols
}

// recognise checks whether the end marker just completed closes a valid prompt block.
func (s *bashScreen) recognise() {
	end := len(s.lines) - 1
	begin := -1
	for j := end - 1; j >= 0 && j >= end-16; j-- {
		if s.lines[j] == bashMarkerBegin {
			begin = j
			break
		}
	}
	if begin < 0 {
		return
	}
	meta, ok := bashParsePromptBody(s.lines[begin+1:end], s.nonce)
	if !ok {
		return
	}
	s.blocks = append(s.blocks, bashBlock{begin: s.base + begin, end: s.base + end, meta: meta})
	s.markers++
}

// bashParsePromptBody reads the pretty-printed JSON object of a prompt. The values are raw shell
// output, not JSON-escaped (a directory may contain a quote), so it reads one "key": "value" per line
// instead of decoding JSON. A block whose exit code is not a number is not a prompt: it is the PS1
// text itself, printed by a command such as `env` or `echo "$PS1"`.
func bashParsePromptBody(body []string, nonce string) (bashPromptMeta, bool) {
	m := bashPromptMeta{exitCode: -1, pid: -1}
	if len(body) < 2 || body[0] != "{" || body[len(body)-1] != "}" {
		return m, false
	}
	var gotNonce, gotExit bool
	for _, l := range body[1 : len(body)-1] {
		l = strings.TrimSpace(l)
		l = strings.TrimSuffix(l, ",")
		k, v, ok := strings.Cut(l, `": "`)
		if !ok || !strings.HasPrefix(k, `"`) || !strings.HasSuffix(v, `"`) {
			return m, false
		}
		k, v = k[1:], v[:len(v)-1]
		switch k {
		case "pid":
			if n, err := strconv.Atoi(v); err == nil {
				m.pid = n
			}
		case "exit_code":
			n, err := strconv.Atoi(v)
			if err != nil {
				return m, false
			}
			m.exitCode, gotExit = n, true
		case "username":
			m.username = v
		case "hostname":
			m.hostname = v
		case "working_dir":
			m.workingDir = v
		case "py_interpreter_path":
			m.pyPath = v
		case "gohands_session":
			gotNonce = v == nonce
		}
	}
	return m, gotNonce && gotExit
}

// trim drops the oldest lines beyond the limits; a block that loses its first line is forgotten.
func (s *bashScreen) trim() {
	if s.unbounded {
		return
	}
	drop := 0
	for (s.rows > bashHistoryRows || s.bytes > bashMaxScreenSize) && drop < len(s.lines)-1 {
		s.rows -= bashRowsOf(s.lines[drop])
		s.bytes -= len(s.lines[drop])
		drop++
	}
	if drop > 0 {
		s.dropLines(drop)
	}
}

// dropLines forgets the n oldest lines. Reslicing keeps this cheap; append moves the live lines to
// a fresh array once the old one is used up, so the dropped ones are collected.
func (s *bashScreen) dropLines(n int) {
	clear(s.lines[:n])
	s.lines = s.lines[n:]
	s.base += n
	kept := s.blocks[:0]
	for _, b := range s.blocks {
		if b.begin >= s.base {
			kept = append(kept, b)
		}
	}
	s.blocks = kept
}

// clear forgets everything before the last prompt block, as OpenHands clears the pane and its
// history once a command has completed (the prompt stays on screen).
func (s *bashScreen) clear() {
	if len(s.blocks) == 0 {
		return
	}
	last := s.blocks[len(s.blocks)-1]
	s.blocks = s.blocks[len(s.blocks)-1:]
	s.rows, s.bytes = 0, 0
	for _, l := range s.lines[last.begin-s.base:] {
		s.rows += bashRowsOf(l)
		s.bytes += len(l)
	}
	s.dropLines(last.begin - s.base)
}

// atPrompt reports that the screen ends with a prompt block: the shell waits for a command.
func (s *bashScreen) atPrompt() bool {
	if len(s.blocks) == 0 || strings.TrimSpace(string(s.cur)) != "" {
		return false
	}
	last := s.blocks[len(s.blocks)-1]
	for _, l := range s.lines[last.end+1-s.base:] {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

// linesText renders the lines with absolute numbers [from, to) as the pane text does: each line
// followed by a newline.
func (s *bashScreen) linesText(from, to int) string {
	var b strings.Builder
	for _, l := range s.lines[from-s.base : to-s.base] {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// total is the absolute number just past the last completed line.
func (s *bashScreen) total() int { return s.base + len(s.lines) }

// partial is the unfinished last line.
func (s *bashScreen) partial() string { return strings.TrimRight(string(s.cur), " \t") }

// output combines the text around the prompt blocks the way OpenHands does: with two or more
// blocks, the text between consecutive blocks (joined with newlines) plus the text after the last;
// with one, the text after it, or before it when beforeSingle (the command's own starting prompt
// scrolled away); with none, everything.
func (s *bashScreen) output(beforeSingle bool) string {
	switch len(s.blocks) {
	case 0:
		return s.linesText(s.base, s.total()) + s.partial()
	case 1:
		if beforeSingle {
			return s.linesText(s.base, s.blocks[0].begin)
		}
		return s.linesText(s.blocks[0].end+1, s.total()) + s.partial()
	}
	var b strings.Builder
	for i := 0; i+1 < len(s.blocks); i++ {
		b.WriteString(s.linesText(s.blocks[i].end+1, s.blocks[i+1].begin))
		b.WriteByte('\n')
	}
	last := s.blocks[len(s.blocks)-1]
	b.WriteString(s.linesText(last.end+1, s.total()))
	b.WriteString(s.partial())
	return b.String()
}

// lastMeta is the metadata of the newest prompt block.
func (s *bashScreen) lastMeta() (bashPromptMeta, bool) {
	if len(s.blocks) == 0 {
		return bashPromptMeta{exitCode: -1, pid: -1}, false
	}
	return s.blocks[len(s.blocks)-1].meta, true
}
