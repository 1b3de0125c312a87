// Package controller owns the agent loop of one conversation: OpenHands 0.50's AgentController.
//
// A Controller subscribes to the conversation's event stream, keeps the agent's history, moves the
// agent through OpenHands' states (every change is an agent_state_changed observation), asks the
// agent for one action at a time and waits for that action's observation before the next step. It
// enforces the iteration and budget limits, stops an agent that loops (stuck.go), holds risky
// actions for the user's confirmation, and turns LLM and runtime failures into an error state the
// user can recover from with a new message.
//
// Concurrency: the stream's subscriber goroutine only queues events. One loop goroutine owns all
// controller state and handles the events in order; the agent's Step runs on a goroutine of its
// own (one at a time), so pause and stop are handled while the LLM is thinking.
package controller
