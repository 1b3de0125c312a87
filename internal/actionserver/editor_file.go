package actionserver

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// editorEncoding is how a file's text is stored on disk, so an edit writes it back the same way.
type editorEncoding struct {
	// latin1: the file is not UTF-8 and is read byte for byte as ISO-8859-1, which round-trips
	// any bytes. (OpenHands guesses the charset; UTF-8 with a Latin-1 fallback covers the usual
	// cases without a detector.)
	latin1 bool
	// crlf: every line ends in "\r\n". The editor works on "\n" text, as Python's universal
	// newlines do, and writes "\r\n" back. (OpenHands rewrites such files with "\n".)
	crlf bool
}

func editorDecode(raw []byte) (string, editorEncoding) {
	var enc editorEncoding
	var text string
	if utf8.Valid(raw) {
		text = string(raw)
	} else {
		enc.latin1 = true
		runes := make([]rune, len(raw))
		for i, c := range raw {
			runes[i] = rune(c)
		}
		text = string(runes)
	}
	if crlf := strings.Count(text, "\r\n"); crlf > 0 && crlf == strings.Count(text, "\n") {
		enc.crlf = true
	}
	return filesUniversalNewlines(text), enc
}

func (enc editorEncoding) encode(text string) ([]byte, error) {
	if enc.crlf {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	if !enc.latin1 {
		return []byte(text), nil
	}
	out := make([]byte, 0, len(text))
	pos := 0
	for _, r := range text {
		if r > 0xff {
			esc := fmt.Sprintf(`\u%04x`, r)
			if r > 0xffff {
				esc = fmt.Sprintf(`\U%08x`, r)
			}
			return nil, fmt.Errorf("'latin-1' codec can't encode character '%s' in position %d: ordinal not in range(256)", esc, pos)
		}
		out = append(out, byte(r))
		pos++
	}
	return out, nil
}

// editorValidateFile refuses files too large or too binary for the editor; missing paths and
// directories pass.
func editorValidateFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if size := fi.Size(); size > editorMaxFileSize {
		return editorValidationFailed(path, fmt.Sprintf(
			"File is too large (%.1fMB). Maximum allowed size is %dMB.",
			float64(size)/1024/1024, editorMaxFileSize/1024/1024))
	}
	if editorIsConverted(path) {
		return nil
	}
	if filesLooksBinary(path) {
		return editorValidationFailed(path,
			"File appears to be binary and this file type cannot be read or edited by this tool.")
	}
	return nil
}

// editorReadFile validates and reads the file at path.
func editorReadFile(path string) (string, editorEncoding, error) {
	if err := editorValidateFile(path); err != nil {
		return "", editorEncoding{}, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", editorEncoding{}, editorError(fmt.Sprintf("Ran into %s while trying to read %s", filesPyErr(err), path))
	}
	text, enc := editorDecode(raw)
	return text, enc, nil
}

// editorWriteFile replaces the content of path (truncating in place, so an existing file keeps
// its mode and owner) or creates it; a missing parent directory is an error, as in OpenHands.
func editorWriteFile(path, text string, enc editorEncoding) error {
	data, err := enc.encode(text)
	if err != nil {
		return editorError(fmt.Sprintf("Ran into %s while trying to write to %s", err, path))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return editorError(fmt.Sprintf("Ran into %s while trying to write to %s", filesPyErr(err), path))
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return editorError(fmt.Sprintf("Ran into %s while trying to write to %s", filesPyErr(werr), path))
	}
	return nil
}
