// Package memory is the embedded, in-memory babysitter.Store: the default
// backend of the examples and the reference implementation of the Store
// contract.
//
// One mutex makes every method atomic: each reads what it needs under the
// lock, decides with the root package's Check functions (the same rules
// every Store applies) and only then changes anything, so a failing call
// writes nothing. Values go in and out as copies; a caller can never reach
// the stored data through a returned slice or pointer.
//
// Nothing is persisted: the data lives as long as the Store.
package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/babysitter-go/babysitter"
)

// Store is an in-memory babysitter.Store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	mu sync.RWMutex

	// users by username; emails maps a reserved (normalized) email to its
	// username; usersByType holds the usernames of each type, sorted;
	// tombstones holds the usernames of deleted accounts (when deleted),
	// never reused.
	users       map[string]*babysitter.User
	emails      map[string]string
	usersByType map[babysitter.UserType][]string
	tombstones  map[string]time.Time
	// erasures holds the Erasures of deleted accounts whose objects are
	// not known to be deleted yet.
	erasures map[string]babysitter.Erasure

	// jobs by ID; jobsByStatus and jobsByParent hold job IDs sorted
	// ascending (UUIDv7, so oldest first; lists walk them backwards).
	jobs         map[string]*babysitter.Job
	jobsByStatus map[babysitter.JobStatus][]string
	jobsByParent map[string][]string
	// due is the outbox: the jobs that left OPEN (when) and whose
	// declines DeclinePending has not finished yet.
	due map[string]time.Time

	// apps by ID; appsByJob and appsByNanny hold application IDs sorted
	// ascending; applicant maps (job, nanny) to the nanny's application.
	apps        map[string]*babysitter.Application
	appsByJob   map[string][]string
	appsByNanny map[string][]string
	applicant   map[applicantKey]string

	// reviews by ID; reviewsOf holds each reviewee's review IDs sorted
	// ascending; reviewed marks (job, direction) pairs already reviewed.
	reviews   map[string]*babysitter.Review
	reviewsOf map[string][]string
	reviewed  map[reviewKey]bool

	// near indexes the OPEN jobs by geohash cell, as the DynamoDB store's
	// sparse index does.
	near map[string]map[string]bool
}

var _ babysitter.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		users:        map[string]*babysitter.User{},
		emails:       map[string]string{},
		usersByType:  map[babysitter.UserType][]string{},
		tombstones:   map[string]time.Time{},
		erasures:     map[string]babysitter.Erasure{},
		jobs:         map[string]*babysitter.Job{},
		jobsByStatus: map[babysitter.JobStatus][]string{},
		jobsByParent: map[string][]string{},
		due:          map[string]time.Time{},
		apps:         map[string]*babysitter.Application{},
		appsByJob:    map[string][]string{},
		appsByNanny:  map[string][]string{},
		applicant:    map[applicantKey]string{},
		reviews:      map[string]*babysitter.Review{},
		reviewsOf:    map[string][]string{},
		reviewed:     map[reviewKey]bool{},
		near:         map[string]map[string]bool{},
	}
}

// write runs fn under the write lock, after g passes on the actor's
// account (nil: the method has no actor to check).
func (s *Store) write(ctx context.Context, g *babysitter.Guard, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	return fn()
}

// read runs fn under the read lock, after g passes (nil: no actor).
func (s *Store) read(ctx context.Context, g *babysitter.Guard, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return err
	}
	return fn()
}

// guard applies g to the actor's stored account; called with s.mu held.
func (s *Store) guard(g *babysitter.Guard) error {
	if g == nil {
		return nil
	}
	return g.Check(s.users[g.Actor.Username]) // nil when there is no account
}

// The lookups below return the stored value or nil, for the Check
// functions; called with s.mu held.

func (s *Store) job(id string) *babysitter.Job { return s.jobs[id] }

func (s *Store) app(id string) *babysitter.Application { return s.apps[id] }

// Cursor scopes: a cursor names the list it belongs to, so one list's
// cursor is rejected by another.
const (
	scopeUsersByType   = "users-by-type:"
	scopeJobsByStatus  = "jobs-by-status:"
	scopeJobsByParent  = "jobs-by-parent:"
	scopeAppsForJob    = "applications-for-job:"
	scopeAppsByNanny   = "applications-by-nanny:"
	scopeReviewsOf     = "reviews-of:"
	keyUsername, keyID = "username", "id"
)

// descPage returns the page of items before the cursor, newest first:
// ids sorted ascending, get the item of an ID (called with s.mu held).
func descPage[T any](scope string, ids []string, before string, n int, get func(id string) T) babysitter.Page[T] {
	sel, more := pageDesc(ids, before, n)
	page := babysitter.Page[T]{Items: make([]T, len(sel))}
	for i, id := range sel {
		page.Items[i] = get(id)
	}
	if more {
		page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyID: sel[len(sel)-1]})
	}
	return page
}

// decode returns the key field of a cursor of the given scope, or "" for
// the first page.
func decode(scope, field, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	key, err := babysitter.DecodeCursor(scope, cursor)
	if err != nil {
		return "", err
	}
	v, ok := key[field]
	if !ok || len(key) != 1 {
		return "", &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: "cursor", Message: "is not a cursor of this list"}}}
	}
	return v, nil
}

// pageAsc returns up to n keys of sorted after the key after ("" for the
// start), and whether more follow.
func pageAsc(sorted []string, after string, n int) ([]string, bool) {
	i := 0
	if after != "" {
		j, found := slices.BinarySearch(sorted, after)
		if found {
			j++
		}
		i = j
	}
	end := min(i+n, len(sorted))
	return slices.Clone(sorted[i:end]), end < len(sorted)
}

// pageDesc returns up to n keys of sorted, walking backwards from just
// before the key before ("" for the end), and whether more follow.
func pageDesc(sorted []string, before string, n int) ([]string, bool) {
	i := len(sorted) // exclusive upper bound
	if before != "" {
		i, _ = slices.BinarySearch(sorted, before)
	}
	out := make([]string, 0, min(n, i))
	for i > 0 && len(out) < n {
		i--
		out = append(out, sorted[i])
	}
	return out, i > 0
}

func insertSorted(sorted []string, k string) []string {
	i, found := slices.BinarySearch(sorted, k)
	if found {
		return sorted
	}
	return slices.Insert(sorted, i, k)
}

func removeSorted(sorted []string, k string) []string {
	i, found := slices.BinarySearch(sorted, k)
	if !found {
		return sorted
	}
	return slices.Delete(sorted, i, i+1)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
