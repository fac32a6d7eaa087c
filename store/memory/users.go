package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/babysitter-go/babysitter"
)

// CreateUser inserts u and reserves u.Email. A username held by an account
// or by the tombstone of a deleted one, or a taken email, is an
// *babysitter.AlreadyExistsError naming the field; nothing is written then.
func (s *Store) CreateUser(ctx context.Context, u babysitter.User) error {
	return s.write(ctx, nil, func() error {
		_, deleted := s.tombstones[u.Username]
		if _, ok := s.users[u.Username]; ok || deleted {
			return babysitter.UsernameTaken(u.Username)
		}
		if _, ok := s.emails[u.Email]; ok {
			return babysitter.EmailTaken(u.Email)
		}
		c := cloneUser(u)
		s.users[u.Username] = &c
		s.emails[u.Email] = u.Username
		s.usersByType[u.Type] = insertSorted(s.usersByType[u.Type], u.Username)
		return nil
	})
}

// GetUser returns the user. ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (babysitter.User, error) {
	var out babysitter.User
	err := s.read(ctx, nil, func() error {
		u, ok := s.users[username]
		if !ok {
			return babysitter.UserNotFound(username)
		}
		out = cloneUser(*u)
		return nil
	})
	return out, err
}

// UpdateUser writes next's Email, Profile, UpdatedOn and Version as
// babysitter.CheckUserUpdate allows, moving the email reservation when the
// email changes (*babysitter.AlreadyExistsError on email when the new one
// is taken).
func (s *Store) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	return s.write(ctx, &g, func() error {
		u := s.users[next.Username]
		if err := babysitter.CheckUserUpdate(u, prevEmail, next); err != nil {
			return err
		}
		if next.Email != u.Email {
			if _, taken := s.emails[next.Email]; taken {
				return babysitter.EmailTaken(next.Email)
			}
			delete(s.emails, u.Email)
			s.emails[next.Email] = u.Username
		}
		u.Email = next.Email
		u.Profile = cloneProfile(next.Profile)
		u.UpdatedOn = next.UpdatedOn
		u.Version = next.Version
		return nil
	})
}

// SetUserStatus sets the account status, its Verification record and
// UpdatedOn, as babysitter.CheckStatusUpdate allows, and returns the
// updated user. Version is unchanged: a status change is not a profile
// edit and must not fail a concurrent UpdateUser. ErrNotFound.
func (s *Store) SetUserStatus(ctx context.Context, st babysitter.StatusUpdate) (babysitter.User, error) {
	var out babysitter.User
	err := s.write(ctx, nil, func() error {
		u := s.users[st.Username]
		if err := babysitter.CheckStatusUpdate(u, st); err != nil {
			return err
		}
		u.Status = st.Status
		u.Verification = clonePtr(st.Verification)
		u.UpdatedOn = st.At
		out = cloneUser(*u)
		return nil
	})
	return out, err
}

// DeleteUser removes the user and its email reservation and tombstones the
// username, as babysitter.CheckUserDelete allows, and records the
// account's Erasure when it has objects. The user's jobs, applications
// and reviews are kept.
func (s *Store) DeleteUser(ctx context.Context, g babysitter.Guard, username string, now time.Time) (babysitter.Erasure, error) {
	var e babysitter.Erasure
	err := s.write(ctx, &g, func() error {
		u := s.users[username]
		if err := babysitter.CheckUserDelete(username, u, s.openJobs(username)); err != nil {
			return err
		}
		e = babysitter.ErasureOf(cloneUser(*u), now)
		if len(e.Keys) > 0 {
			s.erasures[username] = e
		}
		delete(s.users, username)
		delete(s.emails, u.Email)
		s.usersByType[u.Type] = removeSorted(s.usersByType[u.Type], username)
		s.tombstones[username] = now
		return nil
	})
	return e, err
}

// UpdateUploads applies c as babysitter.ApplyUploadChange decides on the
// account as it is under the lock, and returns the user as written.
func (s *Store) UpdateUploads(ctx context.Context, g babysitter.Guard, c babysitter.UploadChange) (babysitter.User, error) {
	var out babysitter.User
	err := s.write(ctx, &g, func() error {
		u := s.users[c.Username]
		if u != nil {
			cur := cloneUser(*u)
			u = &cur
		}
		next, changed, err := babysitter.ApplyUploadChange(u, c)
		if err != nil {
			return err
		}
		if changed {
			stored := cloneUser(next)
			s.users[c.Username] = &stored
		}
		out = cloneUser(next)
		return nil
	})
	return out, err
}

// DueErasures returns up to limit Erasures due since before the given
// time, oldest first.
func (s *Store) DueErasures(ctx context.Context, before time.Time, limit int) ([]babysitter.Erasure, error) {
	var out []babysitter.Erasure
	err := s.read(ctx, nil, func() error {
		for _, e := range s.erasures {
			if e.Due.Before(before) {
				e.Keys = slices.Clone(e.Keys)
				out = append(out, e)
			}
		}
		slices.SortFunc(out, func(a, b babysitter.Erasure) int {
			return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Username, b.Username))
		})
		out = out[:min(limit, len(out))]
		return nil
	})
	return out, err
}

// ClearErasure removes the Erasure of a deleted account.
func (s *Store) ClearErasure(ctx context.Context, username string) error {
	return s.write(ctx, nil, func() error {
		delete(s.erasures, username)
		return nil
	})
}

// openJobs counts the parent's OPEN jobs.
func (s *Store) openJobs(parent string) int64 {
	var n int64
	for _, id := range s.jobsByParent[parent] {
		if s.jobs[id].Status == babysitter.JobOpen {
			n++
		}
	}
	return n
}

// ListUsers lists the users of type t ordered by username.
// ErrInvalidInput for a cursor of another list.
func (s *Store) ListUsers(ctx context.Context, g babysitter.Guard, t babysitter.UserType, p babysitter.PageRequest) (babysitter.Page[babysitter.User], error) {
	scope := scopeUsersByType + string(t)
	after, err := decode(scope, keyUsername, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.User]{}, err
	}
	var page babysitter.Page[babysitter.User]
	err = s.read(ctx, &g, func() error {
		names, more := pageAsc(s.usersByType[t], after, p.Size())
		page.Items = make([]babysitter.User, len(names))
		for i, n := range names {
			page.Items[i] = cloneUser(*s.users[n])
		}
		if more {
			page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyUsername: names[len(names)-1]})
		}
		return nil
	})
	return page, err
}

// userHeaded returns a user and one page of their items (ids[username],
// sorted ascending, listed newest first), under the read lock.
func userHeaded[T any](ctx context.Context, s *Store, g babysitter.Guard, scopePrefix, username string, ids map[string][]string,
	get func(id string) T, p babysitter.PageRequest) (babysitter.User, babysitter.Page[T], error) {
	scope := scopePrefix + username
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.User{}, babysitter.Page[T]{}, err
	}
	var (
		user babysitter.User
		page babysitter.Page[T]
	)
	err = s.read(ctx, &g, func() error {
		u, ok := s.users[username]
		if !ok {
			return babysitter.UserNotFound(username)
		}
		user, page = cloneUser(*u), descPage(scope, ids[username], before, p.Size(), get)
		return nil
	})
	return user, page, err
}

func cloneUser(u babysitter.User) babysitter.User {
	u.Profile = cloneProfile(u.Profile)
	u.Documents = slices.Clone(u.Documents)
	u.Verification = clonePtr(u.Verification)
	u.Uploads.Requested = slices.Clone(u.Uploads.Requested)
	u.Uploads.Discarded = slices.Clone(u.Uploads.Discarded)
	u.Uploads.Picture = clonePtr(u.Uploads.Picture)
	return u
}

// cloneProfile deep-copies the profile's slices and pointers.
func cloneProfile(p babysitter.Profile) babysitter.Profile {
	p.Latitude = clonePtr(p.Latitude)
	p.Longitude = clonePtr(p.Longitude)
	p.HourlyRate = clonePtr(p.HourlyRate)
	p.Smokes = clonePtr(p.Smokes)
	p.Drinks = clonePtr(p.Drinks)
	p.SpokenLanguages = slices.Clone(p.SpokenLanguages)
	p.Activities = slices.Clone(p.Activities)
	return p
}
