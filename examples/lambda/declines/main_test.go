package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

// templateMaxReceiveCount reads the decline queue's maxReceiveCount from
// the SAM template, the number SQS moves a message to the dead-letter
// queue after.
func templateMaxReceiveCount(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources struct {
			DeclineQueue struct {
				Properties struct {
					RedrivePolicy struct {
						MaxReceiveCount int `yaml:"maxReceiveCount"`
					} `yaml:"RedrivePolicy"`
				} `yaml:"Properties"`
			} `yaml:"DeclineQueue"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	n := tpl.Resources.DeclineQueue.Properties.RedrivePolicy.MaxReceiveCount
	if n < 1 {
		t.Fatalf("template.yaml: DeclineQueue has no RedrivePolicy.maxReceiveCount")
	}
	return n
}

// TestDeadLetterAtTemplatesMaxReceiveCount: the consumer's Decliner knows
// the template's maxReceiveCount, so a message failing at that delivery —
// and at no earlier one — is logged as going to the dead-letter queue.
// The message is poison (not JSON), so no AWS call is made.
func TestDeadLetterAtTemplatesMaxReceiveCount(t *testing.T) {
	maxReceive := templateMaxReceiveCount(t)
	t.Setenv("TABLE_NAME", "unused")
	t.Setenv("TOPIC_ARN", "arn:aws:sns:eu-central-1:123456789012:unused")
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	tel, err := otelenv.New(t.Context(), otelenv.Options{}) // no OTEL_* endpoint: off
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		receiveCount int
		deadLetter   bool
	}{
		{1, false},
		{maxReceive - 1, false},
		{maxReceive, true},
	} {
		var logs bytes.Buffer
		d, err := newDecliner(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)), tel)
		if err != nil {
			t.Fatal(err)
		}
		failed := d.HandleBatch(t.Context(), []babysitter.Message{{ID: "m1", Body: []byte("not json"), ReceiveCount: tc.receiveCount}})
		if len(failed) != 1 {
			t.Fatalf("receive %d: failed %v, want the poison message", tc.receiveCount, failed)
		}
		if got := strings.Contains(logs.String(), "dead-letter queue"); got != tc.deadLetter {
			t.Errorf("receive %d of %d: dead-letter logged %v, want %v:\n%s", tc.receiveCount, maxReceive, got, tc.deadLetter, logs.String())
		}
	}
}
