package actionserver

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gohands/gohands/internal/events"
)

// deliver types command into the terminal: a special key as its control character, input for the
// running program followed by Enter, or a command for the waiting shell followed by Enter.
func (b *BashSession) deliver(ctx context.Context, p *bashProc, a *events.CmdRunAction, command string) error {
	var data []byte
	echo := ""
	typing := false
	if key, isKey := bashSpecialKey(command); isKey {
		if p.tty.ours(p.ptm) {
			echo = bashEchoKey(key)
		}
		if len(key) == 1 {
			p.keyFlush(key[0])
		}
		data = key
	} else if a.IsInput {
		if p.tty.ours(p.ptm) {
			echo = command + "\n"
		}
		data = []byte(command + "\r")
	} else {
		line, err := b.typedCommand(command)
		if err != nil {
			return err
		}
		data, typing = []byte(line+"\r"), true
	}
	if echo != "" {
		// What a cooked terminal would echo: OpenHands' tmux pane shows it, and its output
		// extraction (which drops the echoed text) expects it.
		p.mu.Lock()
		p.screen.write([]byte(echo))
		p.mu.Unlock()
	}
	b.log.Debug("bash session: send", "command", command, "is_input", a.IsInput)
	return p.send(ctx, data, typing)
}

// bashMaxTypedLine is the longest line typed to the shell: a canonical terminal line ends at 4,096
// bytes, and busybox sh reads at most 1,023 bytes of a line and prompts again for the rest.
const bashMaxTypedLine = 1000

// typedCommand is the text to type for command. A command the terminal would mangle (a line too
// long, or control characters the line discipline acts on) is written to a file that the shell
// reads, removes and evaluates instead; that only shows in the rare error message that names eval.
func (b *BashSession) typedCommand(command string) (string, error) {
	if !bashNeedsFile(command) {
		return command, nil
	}
	f, err := os.CreateTemp("", "gohands-command-*.sh")
	if err != nil {
		return "", fmt.Errorf("store a long command: %w", err)
	}
	_, err = f.WriteString(command)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("store a long command: %w", err)
	}
	q := bashQuote(f.Name())
	return "__gohands_cmd=$(cat " + q + "; rm -f " + q + "); eval \"$__gohands_cmd\"", nil
}

func bashNeedsFile(command string) bool {
	line := 0
	for i := 0; i < len(command); i++ {
		switch c := command[i]; {
		case c == '\n':
			line = 0
			continue
		case c < 0x20 && c != '\t', c == 0x7f:
			return true
		}
		if line++; line > bashMaxTypedLine {
			return true
		}
	}
	return false
}

// bashQuote quotes s for the shell.
func bashQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// bashSpecialKey recognises OpenHands' special keys: exactly "C-" and one character, sent without
// Enter. It returns the control character to send (the text itself when there is none).
func bashSpecialKey(command string) ([]byte, bool) {
	if len(command) != 3 || !strings.HasPrefix(command, "C-") {
		return nil, false
	}
	switch c := command[2]; {
	case c >= 'a' && c <= 'z':
		return []byte{c - 'a' + 1}, true
	case c >= '@' && c <= '_': // @, A-Z, [ \ ] ^ _
		return []byte{c - '@'}, true
	case c == '?':
		return []byte{0x7f}, true
	case c == ' ':
		return []byte{0}, true
	}
	return []byte(command), true
}

// bashEchoKey is how a cooked terminal (ECHOCTL) echoes a control key: ^C, ^Z…; end-of-file and
// line ends are not shown that way.
func bashEchoKey(key []byte) string {
	if len(key) != 1 {
		return ""
	}
	switch c := key[0]; {
	case c == 0x04:
		return ""
	case c == '\t', c == '\n', c == '\r':
		return string(c)
	case c < 0x20:
		return "^" + string(rune(c+'@'))
	case c == 0x7f:
		return "^?"
	}
	return ""
}
