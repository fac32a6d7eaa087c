package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIKey is the simulator's API key unless told otherwise.
const DefaultAPIKey = "da2-localdevelopmentkey0000000"

// Simulator is the AppSync simulator serving the API.
type Simulator struct {
	// URL is the GraphQL endpoint (http://127.0.0.1:PORT/graphql).
	URL    string
	APIKey string
	proc   *process
}

// SimulatorConfig configures StartSimulator.
type SimulatorConfig struct {
	// Schema is the path of the GraphQL schema.
	Schema string
	// LambdaURL is the invocation URL of the function that resolves every
	// Query and Mutation field (Function.URL or Function.Gateway).
	LambdaURL string
	// APIKey is the API key; default DefaultAPIKey.
	APIKey string
	// Port is the port on 127.0.0.1; 0 picks a free one.
	Port int
	// OnLine, if set, sees every line the simulator writes.
	OnLine func(string)
}

// StartSimulator starts simulator.cjs and waits for the line it prints
// once it listens.
func (t Tools) StartSimulator(ctx context.Context, cfg SimulatorConfig) (*Simulator, error) {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	ready := make(chan string, 1)
	lines := func(line string) {
		if strings.HasPrefix(line, `{"url":`) {
			select {
			case ready <- line:
			default:
			}
		}
		if cfg.OnLine != nil {
			cfg.OnLine(line)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "NODE_ENV=production"}
	if home := os.Getenv("HOME"); home != "" {
		env = append(env, "HOME="+home)
	}
	p, err := startProcess("appsync simulator", filepath.Dir(t.Simulator), env, lines,
		t.Node, t.Simulator, "--schema", cfg.Schema, "--lambda-url", cfg.LambdaURL,
		"--api-key", cfg.APIKey, "--port", strconv.Itoa(cfg.Port))
	if err != nil {
		return nil, err
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	var line string
	select {
	case line = <-ready:
	case <-p.exited:
		return nil, fmt.Errorf("the simulator exited before it listened; output:\n%s", p.output())
	case <-timeout.C:
		p.stop()
		return nil, fmt.Errorf("the simulator did not listen within 30 s; output:\n%s", p.output())
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	var info struct {
		URL    string `json:"url"`
		APIKey string `json:"apiKey"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		p.stop()
		return nil, fmt.Errorf("the simulator's ready line %q: %w", line, err)
	}
	return &Simulator{URL: info.URL, APIKey: info.APIKey, proc: p}, nil
}

// Stop stops the simulator.
func (s *Simulator) Stop() { s.proc.stop() }

// Output is what the simulator wrote lately.
func (s *Simulator) Output() string { return s.proc.output() }

// PID is the simulator's process id.
func (s *Simulator) PID() int { return s.proc.pid() }
