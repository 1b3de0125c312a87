package actionserver

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The texts in this file reach the agent (and OpenHands' own tests compare them), so they are
// OpenHands 0.50's strings character for character. Texts gohands adds for behaviour OpenHands does
// not have are marked as such.

// bashTimeoutGuidance follows every timeout statement inside the same brackets.
const bashTimeoutGuidance = "You may wait longer to see additional output by sending empty command '', " +
	"send other commands to interact with the current process, " +
	"send keys to interrupt/kill the command, " +
	"or use the timeout parameter in execute_bash for future commands."

const (
	bashNoRunningToRetrieve = "ERROR: No previous running command to retrieve logs from."
	bashNoRunningToInteract = "ERROR: No previous running command to interact with."

	// bashContinuePrefix starts the output of a command that was already reported as timed out.
	bashContinuePrefix = "[Below is the output of the previous command.]\n"
)

// bashMultipleCommandsError is the content of the error observation for several commands at once.
func bashMultipleCommandsError(cmds []string) string {
	var b strings.Builder
	b.WriteString("ERROR: Cannot execute multiple commands at once.\n")
	b.WriteString("Please run each command separately OR chain them into a single command via && or ;\n")
	b.WriteString("Provided commands:")
	for i, c := range cmds {
		fmt.Fprintf(&b, "\n(%d) %s", i+1, c)
	}
	return b.String()
}

func bashCompletedSuffix(exitCode int, specialKey string) string {
	if specialKey != "" {
		return fmt.Sprintf("\n[The command completed with exit code %d. CTRL+%s was sent.]",
			exitCode, strings.ToUpper(specialKey[len(specialKey)-1:]))
	}
	return fmt.Sprintf("\n[The command completed with exit code %d.]", exitCode)
}

func bashNoChangeSuffix(d time.Duration) string {
	return "\n[The command has no new output after " + bashIntSeconds(d) + " seconds. " + bashTimeoutGuidance + "]"
}

func bashHardTimeoutSuffix(d time.Duration) string {
	return "\n[The command timed out after " + bashFloatSeconds(d) + " seconds. " + bashTimeoutGuidance + "]"
}

func bashNotExecutedSuffix(command string) string {
	return "\n[Your command \"" + command + "\" is NOT executed. " +
		"The previous command is still running - You CANNOT send new commands until the previous command is completed. " +
		"By setting `is_input` to `true`, you can interact with the current process: " +
		"You may wait longer to see additional output of the previous command by sending empty command '', " +
		"send other commands to interact with the current process, " +
		"or send keys (\"C-c\", \"C-z\", \"C-d\") to interrupt/kill the previous command before sending your new command.]"
}

func bashTruncatedPrefix(lines int) string {
	return fmt.Sprintf("[Previous command outputs are truncated. Showing the last %d lines of the output below.]\n", lines)
}

// gohands-only texts: OpenHands never kills a timed-out command, never loses its shell and has no
// request cancellation.

func bashKilledSuffix(d time.Duration, exitCode int) string {
	return fmt.Sprintf("\n[The command timed out after %s seconds and was killed (exit code %d).]", bashFloatSeconds(d), exitCode)
}

func bashCancelledSuffix() string {
	return "\n[The request was cancelled before the command finished; the command is still running. " + bashTimeoutGuidance + "]"
}

func bashShellExitedSuffix(exitCode int) string {
	return fmt.Sprintf("\n[The shell exited with code %d. A new shell will be started for the next command, "+
		"in the same working directory; environment variables, shell variables and background jobs are lost.]", exitCode)
}

const (
	bashSessionClosedSuffix   = "\n[The shell session was closed.]"
	bashStaticCancelledSuffix = "\n[The request was cancelled; the command was killed.]"
)

// bashIntSeconds renders the soft timeout the way OpenHands does (an int setting): "10". A
// fractional duration keeps its fraction.
func bashIntSeconds(d time.Duration) string {
	s := d.Seconds()
	if s == math.Trunc(s) {
		return strconv.FormatInt(int64(s), 10)
	}
	return strconv.FormatFloat(s, 'f', -1, 64)
}

// bashFloatSeconds renders the hard timeout like Python's repr of a float: "1.0", "2.5", "120.0".
func bashFloatSeconds(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// bashMaxContentRunes caps the content of a command observation (OpenHands' MAX_CMD_OUTPUT_SIZE,
// counted in characters as Python does).
const bashMaxContentRunes = 30000

// bashTruncateContent keeps the first and last half of an over-long content around OpenHands' note.
func bashTruncateContent(s string) string {
	if len(s) <= bashMaxContentRunes || utf8.RuneCountInString(s) <= bashMaxContentRunes {
		return s
	}
	half := bashMaxContentRunes / 2
	runes := []rune(s)
	return string(runes[:half]) + "\n[... Observation truncated due to length ...]\n" + string(runes[len(runes)-half:])
}
