package codeact

import (
	"context"
	"log/slog"
	"slices"

	"github.com/gohands/gohands/internal/config"
	"github.com/gohands/gohands/internal/events"
	"github.com/gohands/gohands/internal/llm"
)

// Condenser keeps a long conversation within the model's context window.
//
// A condenser either narrows the view it is given (masking or leaving out events for this one
// request; nothing is recorded), or decides that events must be forgotten for good and returns a
// condensation action. The agent returns that action as its step; once it is in the history,
// NewView applies it at every later step.
type Condenser interface {
	Condense(ctx context.Context, v View) (View, *events.CondensationAction, error)
}

// NewCondenser builds the condenser cfg selects. client serves the condensers that ask a model
// for a summary. Types gohands does not implement (llm_attention, structured) fall back to the
// summarising llm condenser; unknown types to noop. Both are logged.
func NewCondenser(cfg config.Condenser, client llm.Client, log *slog.Logger) Condenser {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := config.DefaultCondenser(cfg.Type)
	positive := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	switch cfg.Type {
	case config.CondenserNoop, "":
		return noopCondenser{}
	case config.CondenserObservationMasking:
		return maskingCondenser{window: positive(cfg.AttentionWindow, def.AttentionWindow)}
	case config.CondenserBrowserOutputMasking:
		return maskingCondenser{window: positive(cfg.AttentionWindow, def.AttentionWindow), browserOnly: true}
	case config.CondenserRecent:
		return recentCondenser{keepFirst: max(cfg.KeepFirst, 0), maxEvents: positive(cfg.MaxEvents, def.MaxEvents)}
	case config.CondenserAmortized:
		return amortizedCondenser{keepFirst: max(cfg.KeepFirst, 0), maxSize: positive(cfg.MaxSize, def.MaxSize)}
	case config.CondenserConversationWindow:
		return windowCondenser{}
	case config.CondenserPipeline:
		var p pipelineCondenser
		for _, c := range cfg.Condensers {
			p = append(p, NewCondenser(c, client, log))
		}
		return p
	case config.CondenserLLMAttention, config.CondenserStructured:
		log.Warn("condenser type not implemented; summarising with the llm condenser instead", "type", cfg.Type)
		def = config.DefaultCondenser(config.CondenserLLM)
		fallthrough
	case config.CondenserLLM:
		return &summaryCondenser{
			client:         client,
			keepFirst:      max(cfg.KeepFirst, 0),
			maxSize:        positive(cfg.MaxSize, def.MaxSize),
			maxEventLength: positive(cfg.MaxEventLength, def.MaxEventLength),
			log:            log,
		}
	}
	log.Warn("unknown condenser type; history will not be condensed", "type", cfg.Type)
	return noopCondenser{}
}

// noopCondenser shows the whole view.
type noopCondenser struct{}

func (noopCondenser) Condense(_ context.Context, v View) (View, *events.CondensationAction, error) {
	return v, nil, nil
}

// pipelineCondenser runs condensers in order; the first condensation action ends the run.
type pipelineCondenser []Condenser

func (p pipelineCondenser) Condense(ctx context.Context, v View) (View, *events.CondensationAction, error) {
	for _, c := range p {
		var act *events.CondensationAction
		var err error
		if v, act, err = c.Condense(ctx, v); err != nil || act != nil {
			return v, act, err
		}
	}
	return v, nil, nil
}

// maskedContent replaces observations a masking condenser hides.
const maskedContent = "<MASKED>"

// maskingCondenser hides the content of observations (or only of browser observations) older
// than the last window events. Unlike OpenHands, which swaps in a bare condense observation, the
// masked event keeps its envelope (tool call id, cause), so the call it answers stays paired.
type maskingCondenser struct {
	window      int
	browserOnly bool
}

func (m maskingCondenser) Condense(_ context.Context, v View) (View, *events.CondensationAction, error) {
	out := View{Events: slices.Clone(v.Events), UnhandledCondensationRequest: v.UnhandledCondensationRequest}
	for i, ev := range out.Events {
		if ev.Observation == nil || i >= len(out.Events)-m.window {
			continue
		}
		if _, browse := ev.Observation.(*events.BrowserOutputObservation); m.browserOnly && !browse {
			continue
		}
		masked := *ev
		masked.Observation = &events.AgentCondensationObservation{Content: maskedContent}
		out.Events[i] = &masked
	}
	return out, nil, nil
}

// forgetRange is the condensation that forgets evs (real events only) as an inclusive id range
// when their ids are contiguous, else as an id list; nil when there is nothing to forget.
func forgetRange(evs []*events.Event) *events.CondensationAction {
	var ids []int64
	for _, ev := range evs {
		if ev.ID >= 0 {
			ids = append(ids, ev.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 1 && ids[len(ids)-1]-ids[0] == int64(len(ids)-1) {
		start, end := ids[0], ids[len(ids)-1]
		return &events.CondensationAction{ForgottenEventsStartID: &start, ForgottenEventsEndID: &end}
	}
	return &events.CondensationAction{ForgottenEventIDs: ids}
}
