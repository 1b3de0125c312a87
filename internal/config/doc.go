// Package config loads gohands' configuration the way OpenHands 0.50 users
// already write it: config.toml with OpenHands' section and key names, then the
// environment variables OpenHands reads, then command-line overrides.
//
// It owns the configuration types and their defaults (OpenHands' code defaults,
// not its template's comments), the loader with file:line diagnostics, the
// finalisation rules (workspace mounts, the default condenser) and validation.
// It never touches the process environment by itself: callers pass a lookup
// function, which keeps tests hermetic.
package config
