package controller

import "fmt"

// limits are OpenHands' iteration and budget control flags.
type limits struct {
	iteration, maxIterations, iterationIncrease int
	iterationHit                                bool

	hasBudget                       bool
	cost, maxBudget, budgetIncrease float64
	budgetHit                       bool
}

func newLimits(cfg Config) limits {
	return limits{
		maxIterations:     cfg.MaxIterations,
		iterationIncrease: cfg.MaxIterations,
		hasBudget:         cfg.MaxBudgetPerTask > 0,
		maxBudget:         cfg.MaxBudgetPerTask,
		budgetIncrease:    cfg.MaxBudgetPerTask,
	}
}

// check runs the flags before a step: the iteration flag counts the step unless the limit is
// reached; the budget flag only compares. The error texts are OpenHands' (a UI or a script may
// match them), followed by how to get past the limit.
func (l *limits) check(headless bool) error {
	if l.iterationHit = l.iteration >= l.maxIterations; l.iterationHit {
		how := " Raise max_iterations in config.toml [core] or send a message to continue."
		if headless {
			how = " Raise max_iterations in config.toml [core] (or pass --max-iterations) and run again."
		}
		return fmt.Errorf("Agent reached maximum iteration. Current iteration: %d, max iteration: %d.%s",
			l.iteration, l.maxIterations, how)
	}
	l.iteration++
	if !l.hasBudget {
		return nil
	}
	if l.budgetHit = l.cost >= l.maxBudget; l.budgetHit {
		how := " Raise max_budget_per_task in config.toml [core] or send a message to continue."
		if headless {
			how = " Raise max_budget_per_task in config.toml [core] (or pass --max-budget-per-task) and run again."
		}
		// "conversation.Current" without a space is OpenHands' text.
		return fmt.Errorf("Agent reached maximum budget for conversation.Current budget: %.2f, max budget: %.2f.%s",
			l.cost, l.maxBudget, how)
	}
	return nil
}

// raise extends the limits that were hit when the agent leaves error for running (the user sent a
// message): iterations by the configured amount, except headless; the budget to the current cost
// plus the configured amount.
func (l *limits) raise(headless bool) {
	if l.iterationHit && !headless {
		l.maxIterations += l.iterationIncrease
		l.iterationHit = false
	}
	if l.budgetHit {
		l.maxBudget = l.cost + l.budgetIncrease
		l.budgetHit = false
	}
}

// budget is the current budget limit for llm_metrics, nil when there is none.
func (l *limits) budget() *float64 {
	if !l.hasBudget {
		return nil
	}
	b := l.maxBudget
	return &b
}
