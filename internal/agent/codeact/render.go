package codeact

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gohands/gohands/internal/events"
)

// defaultMaxMessageChars is OpenHands' max_message_chars.
const defaultMaxMessageChars = 30000

// truncateMarker is the line OpenHands puts where it cut an observation (the same text the
// sandbox uses, so a model sees one convention).
const truncateMarker = "\n[... Observation truncated due to length ...]\n"

// truncate keeps the first and last max/2 characters (code points, as Python counts) of a text
// longer than max, joined by the truncation marker. max < 0 disables it.
func truncate(s string, max int) string {
	if max < 0 || len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	half := max / 2
	r := []rune(s)
	return string(r[:half]) + truncateMarker + string(r[len(r)-half:])
}

// renderRun is what the model sees of a command's output: prefix, output and suffix as the
// sandbox produced them, then the working directory, interpreter and exit code.
func renderRun(o *events.CmdOutputObservation) string {
	var b strings.Builder
	b.WriteString(o.Metadata.Prefix)
	b.WriteString(o.Content)
	b.WriteString(o.Metadata.Suffix)
	if wd := o.Metadata.WorkingDir; wd != nil && *wd != "" {
		fmt.Fprintf(&b, "\n[Current working directory: %s]", *wd)
	}
	if py := o.Metadata.PyInterpreterPath; py != nil && *py != "" {
		fmt.Fprintf(&b, "\n[Python interpreter: %s]", *py)
	}
	if o.Metadata.ExitCode != -1 {
		fmt.Fprintf(&b, "\n[Exit code: %d]", o.Metadata.ExitCode)
	}
	return b.String()
}

// Fixed texts around observations (ours, in the spirit of OpenHands' ones).
const (
	userRanCommand = "\nThe user ran a command in the shell; here is its result:\n"
	errorTrailer   = "\n[An error occurred while processing the last action.]"
	rejectedPrefix = "OBSERVATION:\n"
	rejectedSuffix = "\n[The user rejected the last action.]"
	inlineImage    = "![image](data:image/png;base64,"
	inlineImageOut = "![image](data:image/png;base64, ...) (image already shown to the user)"
)

// renderIPython replaces inline base64 images, which are large and useless as text.
func renderIPython(content string) string {
	lines := strings.Split(content, "\n")
	for i, l := range lines {
		if strings.Contains(l, inlineImage) {
			lines[i] = inlineImageOut
		}
	}
	return strings.Join(lines, "\n")
}

// workspaceContext renders the workspace part of a workspace_context recall, or "" when it holds
// nothing worth saying. The section tags follow OpenHands' structure; the words are ours.
func workspaceContext(o *events.RecallObservation) string {
	hasRepo := o.RepoName != "" || o.RepoDirectory != ""
	hasRuntime := o.Date != "" || len(o.CustomSecretsDescriptions) > 0
	hasRepoInstructions := strings.TrimSpace(o.RepoInstructions) != ""
	hasConversation := o.ConversationInstructions != ""
	if !hasRepo && !hasRuntime && !hasRepoInstructions && !hasConversation {
		return ""
	}
	var b strings.Builder
	if hasRepo {
		b.WriteString("<REPOSITORY_INFO>\n")
		fmt.Fprintf(&b, "The repository %s is checked out in the directory %s. Work on it there.\n", o.RepoName, o.RepoDirectory)
		b.WriteString("</REPOSITORY_INFO>\n\n")
	}
	if hasRepoInstructions {
		b.WriteString("<REPOSITORY_INSTRUCTIONS>\n")
		b.WriteString("The repository comes with these instructions; follow them:\n\n")
		b.WriteString(strings.TrimSpace(o.RepoInstructions))
		b.WriteString("\n</REPOSITORY_INSTRUCTIONS>\n\n")
	}
	b.WriteString("<RUNTIME_INFORMATION>\n")
	if o.WorkingDir != "" {
		fmt.Fprintf(&b, "Your working directory is %s.\n", o.WorkingDir)
	}
	if len(o.RuntimeHosts) > 0 {
		b.WriteString("Web servers you start can be reached from outside on these hosts (listen on the matching port, bind to 0.0.0.0):\n")
		for _, host := range slices.Sorted(maps.Keys(o.RuntimeHosts)) {
			fmt.Fprintf(&b, "* %s (port %d)\n", host, o.RuntimeHosts[host])
		}
	}
	if o.AdditionalAgentInstructions != "" {
		b.WriteString(o.AdditionalAgentInstructions)
		b.WriteString("\n")
	}
	if len(o.CustomSecretsDescriptions) > 0 {
		b.WriteString("<CUSTOM_SECRETS>\n")
		b.WriteString("These secrets are set as environment variables of the same name; use them, never print them:\n")
		for _, name := range slices.Sorted(maps.Keys(o.CustomSecretsDescriptions)) {
			fmt.Fprintf(&b, "* $%s: %s\n", name, o.CustomSecretsDescriptions[name])
		}
		b.WriteString("</CUSTOM_SECRETS>\n")
	}
	if o.Date != "" {
		fmt.Fprintf(&b, "Today's date is %s (UTC).\n", o.Date)
	}
	b.WriteString("</RUNTIME_INFORMATION>")
	if hasConversation {
		b.WriteString("\n\n<CONVERSATION_INSTRUCTIONS>\n")
		b.WriteString(o.ConversationInstructions)
		b.WriteString("\n</CONVERSATION_INSTRUCTIONS>")
	}
	return b.String()
}

// microagentInfo renders triggered microagents, one EXTRA_INFO section each.
func microagentInfo(agents []events.MicroagentKnowledge) string {
	var b strings.Builder
	for i, m := range agents {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("<EXTRA_INFO>\n")
		fmt.Fprintf(&b, "The following was added because the conversation mentioned %q. Use it if it helps with the task; it may not be relevant.\n\n", m.Trigger)
		b.WriteString(strings.TrimSpace(m.Content))
		b.WriteString("\n</EXTRA_INFO>")
	}
	return b.String()
}

// describeAction is a one-line account of an action, for the rare tool-call action that has no
// tool_call_metadata (OpenHands refuses such histories; we describe the action instead).
func describeAction(a events.Action) string {
	switch a := a.(type) {
	case *events.FileEditAction:
		return fmt.Sprintf("Editing file %s (%s)", a.Path, a.Command)
	case *events.AgentThinkAction:
		return a.Thought
	}
	return a.Message()
}
