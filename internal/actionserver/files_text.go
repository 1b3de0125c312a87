package actionserver

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// filesLooksBinary approximates the binaryornot check OpenHands runs before reading a file: the
// first 1 KiB is binary when it is mostly control characters, or mostly high bytes that are not
// UTF-8 text, or when it holds a NUL or 0xFF byte and is not UTF-8 text with non-ASCII letters.
// Missing files and directories are not binary.
func filesLooksBinary(path string) bool {
	if strings.HasSuffix(path, ".pyc") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 1024)
	n, _ := io.ReadFull(f, buf)
	return filesBinaryChunk(buf[:n])
}

func filesBinaryChunk(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	var control, high, nonASCII int
	for _, c := range b {
		if c >= 0x80 {
			nonASCII++
		}
		switch {
		case c >= 127:
			high++
		case c >= 32, c == '\n', c == '\r', c == '\t', c == '\f', c == '\b':
		default:
			control++
		}
	}
	n := float64(len(b))
	nonText := float64(control+high) / n // not printable ASCII
	nonHigh := float64(len(b)-high) / n  // not a high byte
	if nonText > 0.9 && nonHigh > 0.9 {
		return true
	}
	// Text in a multibyte encoding: UTF-8 with at least one non-ASCII character (a chunk may end
	// in the middle of one).
	if nonASCII > 0 && filesValidUTF8Prefix(b) {
		return false
	}
	if (nonText > 0.3 && nonHigh < 0.05) || (nonText > 0.8 && nonHigh > 0.8) {
		return true
	}
	for _, c := range b {
		if c == 0 || c == 0xff {
			return true
		}
	}
	return false
}

// filesValidUTF8Prefix reports whether b is UTF-8, allowing an incomplete last character.
func filesValidUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			return !utf8.FullRune(b[len(b)-i:]) && utf8.Valid(b[:len(b)-i])
		}
	}
	return false
}

// filesDecodeUTF8 decodes raw as Python's text mode does with encoding utf-8: strict, with
// universal newlines ("\r\n" and a lone "\r" read as "\n").
func filesDecodeUTF8(raw []byte) (string, bool) {
	if !utf8.Valid(raw) {
		return "", false
	}
	return filesUniversalNewlines(string(raw)), true
}

func filesUniversalNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// filesSplitLines splits s after each "\n", keeping it, as Python's readlines does.
func filesSplitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// filesReadLines is OpenHands' line window of the default read: 0-based, end exclusive,
// end -1 meaning to the end; a start near the end is pulled back to n-2 and at least one line
// is returned when end is given.
func filesReadLines(lines []string, start, end int) []string {
	n := len(lines)
	start = min(max(start, 0), n)
	if end == -1 {
		return lines[start:]
	}
	end = min(max(end, 0), n)
	begin := max(0, min(start, n-2))
	end = max(begin+1, end)
	return lines[begin:min(end, n)]
}

// filesPyIndex turns a Python slice bound into an index in [0, n].
func filesPyIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return min(max(i, 0), n)
}
