// Package session assembles a conversation's moving parts — event stream, sandbox runtime, agent,
// controller and memory — and runs them together (OpenHands' AgentSession).
package session
