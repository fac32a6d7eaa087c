// Package storetest is the conformance suite every babysitter.Store passes.
//
// A backend's test calls Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) babysitter.Store { return memory.New() })
//	}
//
// The suite assumes nothing about the backend beyond the Store contract.
// Its cases run in parallel; each makes its own users (unique usernames and
// emails) and jobs, so a backend may hand every case the same store (one
// DynamoDB table, say) instead of an empty one. Lists that span users (by
// status, by type) are checked for order and completeness around the
// case's own items, and right after a write they are retried for a short
// while, since a backend may serve them from an eventually consistent index.
//
// The races use testing.Short to shrink their counts; run them with -race.
package storetest

import (
	"testing"

	"github.com/babysitter-go/babysitter"
)

// NewStore returns the store one case runs on. It may return a new, empty
// store each time, or share one between cases: the cases never collide.
type NewStore func(t *testing.T) babysitter.Store

// testCase is one named case of the suite.
type testCase struct {
	name string
	fn   func(t *testing.T, s babysitter.Store)
}

// groups lists the suite's cases by theme; Run runs them as subtests
// "group/case". A new group (in its own file of this package) is one line
// here.
func groups() []struct {
	name  string
	cases []testCase
} {
	return []struct {
		name  string
		cases []testCase
	}{
		{"users", userCases},
		{"guard", guardCases},
		{"jobs", jobCases},
		{"applications", applicationCases},
		{"booking", bookingCases},
		{"declines", declineCases},
		{"cursors", cursorCases},
		{"races", raceCases},
		{"service", serviceCases},
		{"reviews", reviewCases},
		{"near", nearCases},
		{"uploads", uploadCases},
	}
}

// Run runs the whole suite, every case in parallel with a store from
// newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, newStore(t))
				})
			}
		})
	}
}
