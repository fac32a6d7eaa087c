package storetest

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var cursorCases = []testCase{
	{"foreign and garbage cursors", testCursors},
}

// testCursors feeds every list cursors of other lists (another list kind,
// another status, type, parent, job or nanny) and garbage: each is invalid
// input, never a page.
func testCursors(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q := f.parent(), f.parent()
	f.parent()
	n, m := f.nanny(), f.nanny()
	var jobs []babysitter.Job
	for range 3 {
		j := f.job(p.Username)
		f.apply(j.ID, n.Username)
		f.apply(j.ID, m.Username)
		jobs = append(jobs, j)
	}
	f.job(q.Username)
	f.job(q.Username)
	f.cancel(f.job(p.Username))
	f.cancel(f.job(p.Username))
	j := jobs[0].ID

	g := asAdmin
	one := func(c string) babysitter.PageRequest { return babysitter.PageRequest{Limit: 1, Cursor: c} }

	// The lists, each as a function of a page request.
	lists := map[string]func(babysitter.PageRequest) (string, int, error){
		"users PARENT": func(pr babysitter.PageRequest) (string, int, error) {
			pg, err := s.ListUsers(f.ctx, g, babysitter.UserParent, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"users NANNY": func(pr babysitter.PageRequest) (string, int, error) {
			pg, err := s.ListUsers(f.ctx, g, babysitter.UserNanny, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"jobs OPEN": func(pr babysitter.PageRequest) (string, int, error) {
			pg, err := s.ListJobsByStatus(f.ctx, g, babysitter.JobOpen, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"jobs CANCELLED": func(pr babysitter.PageRequest) (string, int, error) {
			pg, err := s.ListJobsByStatus(f.ctx, g, babysitter.JobCancelled, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"jobs of p": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListJobsByParent(f.ctx, g, p.Username, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"jobs of q": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListJobsByParent(f.ctx, g, q.Username, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"applications of job 0": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListApplicationsForJob(f.ctx, g, j, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"applications of job 1": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListApplicationsForJob(f.ctx, g, jobs[1].ID, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"applications by n": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListJobsAppliedTo(f.ctx, g, n.Username, pr)
			return pg.NextCursor, len(pg.Items), err
		},
		"applications by m": func(pr babysitter.PageRequest) (string, int, error) {
			_, pg, err := s.ListJobsAppliedTo(f.ctx, g, m.Username, pr)
			return pg.NextCursor, len(pg.Items), err
		},
	}

	// A first-page cursor of every list (each has at least two items).
	cursors := map[string]string{}
	for name, list := range lists {
		eventually(t, func() error {
			c, _, err := list(one(""))
			if err != nil {
				return err
			}
			if c == "" {
				return same("a cursor after the first item of "+name, "a cursor", c)
			}
			cursors[name] = c
			return nil
		})
		// A list accepts its own cursor.
		if _, k, err := list(one(cursors[name])); err != nil || k != 1 {
			t.Fatalf("%s with its own cursor: %d items, error %v", name, k, err)
		}
	}

	garbage := []string{
		"garbage",
		"!!!!",
		base64.RawURLEncoding.EncodeToString([]byte("{}")),
		base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"s":"x","k":{}}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"v":1}`)),
		cursors["jobs OPEN"][:len(cursors["jobs OPEN"])/2],
	}
	for name, list := range lists {
		for from, c := range cursors {
			if from == name {
				continue
			}
			_, _, err := list(one(c))
			if !errorsIsInvalid(err) {
				t.Errorf("%s with a cursor of %s: got error %v, want invalid input", name, from, err)
			}
		}
		for _, c := range garbage {
			_, _, err := list(one(c))
			if !errorsIsInvalid(err) {
				t.Errorf("%s with the garbage cursor %q: got error %v, want invalid input", name, c, err)
			}
		}
	}
}

func errorsIsInvalid(err error) bool {
	return errors.Is(err, babysitter.ErrInvalidInput)
}
