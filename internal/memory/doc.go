// Package memory answers a conversation's recall actions: on the first user message, the workspace
// context (repository instructions, runtime information, triggered knowledge); on later messages, the
// knowledge microagents the message newly triggers.
//
// It also owns microagents: markdown files, optionally with YAML front matter, loaded from a global
// directory on the backend host and from the workspace (microagent.go, workspace.go).
package memory
