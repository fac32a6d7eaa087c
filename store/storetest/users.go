package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

var userCases = []testCase{
	{"create and get round trip", testUserRoundTrip},
	{"values are copies", testUserCopies},
	{"duplicate username", testUserDuplicateUsername},
	{"duplicate email", testUserDuplicateEmail},
	{"get missing", testUserGetMissing},
	{"update with email change", testUserUpdate},
	{"update to a taken email", testUserUpdateTakenEmail},
	{"update with a wrong version", testUserUpdateStale},
	{"update missing", testUserUpdateMissing},
	{"update writes only profile fields", testUserUpdateKeepsStatus},
	{"set status", testUserSetStatus},
	{"delete leaves a username tombstone", testUserDelete},
	{"delete refused with an open job", testUserDeleteOpenJob},
	{"delete a nanny with pending applications", testUserDeletePendingApplication},
	{"delete after booking and declines", testUserDeleteAfterBooking},
	{"list by type", testUserList},
}

func testUserRoundTrip(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for _, typ := range []babysitter.UserType{babysitter.UserParent, babysitter.UserNanny} {
		u := newUser(typ)
		u.Status = babysitter.StatusVerified
		u.Rating = babysitter.Rating{Count: 3, Sum: 13}
		u.CreatedOn = time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC)
		u.UpdatedOn = u.CreatedOn.Add(time.Hour + time.Nanosecond)
		u.Version = 7
		if err := s.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		check(t, "GetUser after CreateUser", u, f.getUser(u.Username))
	}

	// A minimal profile (nil pointers, no lists) round-trips too.
	u := newUser(babysitter.UserNanny)
	u.Profile = babysitter.Profile{FirstName: "Min", LastName: "Imal", DateOfBirth: babysitter.Date{Year: 2000, Month: 1, Day: 1}}
	if err := s.CreateUser(f.ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got := f.getUser(u.Username)
	check(t, "GetUser of a minimal user", u, got)
	if got.Latitude != nil || got.HourlyRate != nil || got.Smokes != nil {
		t.Errorf("unset pointers came back set: %+v", got.Profile)
	}
}

func testUserCopies(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := newUser(babysitter.UserNanny)
	want := u
	want.Profile = fullProfile() // same values, separate slices and pointers
	if err := s.CreateUser(f.ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	mutate := func(p *babysitter.Profile) {
		p.SpokenLanguages[0] = "xx"
		p.Activities[1] = "mutated"
		*p.Latitude = 1
		*p.Longitude = 2
		p.HourlyRate.Amount = 1
		*p.Smokes = true
		*p.Drinks = false
	}
	mutate(&u.Profile) // the caller's input after the call
	got := f.getUser(u.Username)
	check(t, "user after mutating the CreateUser input", want, got)
	mutate(&got.Profile) // a returned value
	check(t, "user after mutating a GetUser result", want, f.getUser(u.Username))

	next := f.getUser(u.Username)
	next.Version++
	next.FirstName = "Next"
	if err := s.UpdateUser(f.ctx, asNanny(u.Username), next.Email, next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want = next
	want.Profile = fullProfile()
	want.FirstName = "Next"
	mutate(&next.Profile)
	check(t, "user after mutating the UpdateUser input", want, f.getUser(u.Username))
}

func testUserDuplicateUsername(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	a := f.user(babysitter.UserParent)
	b := newUser(babysitter.UserNanny)
	b.Username = a.Username
	wantExists(t, "CreateUser with a taken username", s.CreateUser(f.ctx, b), babysitter.FieldUsername)
	check(t, "the first user", a, f.getUser(a.Username))

	// Nothing was written: the second email is still free.
	c := newUser(babysitter.UserNanny)
	c.Email = b.Email
	if err := s.CreateUser(f.ctx, c); err != nil {
		t.Fatalf("CreateUser with the refused user's email: %v", err)
	}
	check(t, "the third user", c, f.getUser(c.Username))
}

func testUserDuplicateEmail(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	a := f.user(babysitter.UserParent)
	b := newUser(babysitter.UserNanny)
	b.Email = a.Email
	wantExists(t, "CreateUser with a taken email", s.CreateUser(f.ctx, b), babysitter.FieldEmail)
	f.wantNoUser(b.Username)
	check(t, "the first user", a, f.getUser(a.Username))

	// Nothing was written: the username is still free.
	b.Email = uniqueName() + "@example.org"
	if err := s.CreateUser(f.ctx, b); err != nil {
		t.Fatalf("CreateUser with the refused username: %v", err)
	}
	check(t, "the second user", b, f.getUser(b.Username))
}

func testUserGetMissing(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	f.wantNoUser(uniqueName())
}

func testUserUpdate(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.user(babysitter.UserNanny)
	next := u
	next.Email = uniqueName() + "@example.net"
	next.Profile = fullProfile()
	next.FirstName = "Grace"
	next.LastName = "Hopper"
	next.DateOfBirth = babysitter.Date{Year: 1985, Month: time.June, Day: 30}
	next.Latitude, next.Longitude = ptr(-33.9), ptr(151.2)
	next.HourlyRate = &babysitter.Money{Amount: 2200, Currency: "USD"}
	next.SpokenLanguages = []string{"es"}
	next.Activities = nil
	next.Smokes = nil
	next.UpdatedOn = u.UpdatedOn.Add(time.Minute)
	next.Version = u.Version + 1
	if err := s.UpdateUser(f.ctx, asNanny(u.Username), u.Email, next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	check(t, "GetUser after UpdateUser", next, f.getUser(u.Username))

	// The old email is free, the new one taken.
	other := newUser(babysitter.UserParent)
	other.Email = u.Email
	if err := s.CreateUser(f.ctx, other); err != nil {
		t.Fatalf("CreateUser with the released email: %v", err)
	}
	third := newUser(babysitter.UserParent)
	third.Email = next.Email
	wantExists(t, "CreateUser with the new email", s.CreateUser(f.ctx, third), babysitter.FieldEmail)

	// A second update builds on the first; keeping the email is no move.
	next2 := next
	next2.About = "Updated twice."
	next2.Version++
	if err := s.UpdateUser(f.ctx, asNanny(u.Username), next.Email, next2); err != nil {
		t.Fatalf("second UpdateUser: %v", err)
	}
	check(t, "GetUser after the second UpdateUser", next2, f.getUser(u.Username))
	wantExists(t, "CreateUser with the kept email", s.CreateUser(f.ctx, third), babysitter.FieldEmail)
}

func testUserUpdateTakenEmail(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	a := f.user(babysitter.UserParent)
	b := f.user(babysitter.UserParent)
	next := b
	next.Email = a.Email
	next.FirstName = "Changed"
	next.Version++
	wantExists(t, "UpdateUser to a taken email", s.UpdateUser(f.ctx, asParent(b.Username), b.Email, next), babysitter.FieldEmail)
	check(t, "the updated user", b, f.getUser(b.Username))
	check(t, "the email's owner", a, f.getUser(a.Username))

	// b still holds its own email.
	c := newUser(babysitter.UserNanny)
	c.Email = b.Email
	wantExists(t, "CreateUser with b's email", s.CreateUser(f.ctx, c), babysitter.FieldEmail)
}

func testUserUpdateStale(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.user(babysitter.UserParent)
	for _, tc := range []struct {
		name    string
		version int64
	}{
		{"same version", u.Version},
		{"skips a version", u.Version + 2},
		{"older version", u.Version - 1},
	} {
		next := u
		next.FirstName = "Stale"
		next.Email = uniqueName() + "@example.com"
		next.Version = tc.version
		err := s.UpdateUser(f.ctx, asParent(u.Username), u.Email, next)
		wantErr(t, "UpdateUser with "+tc.name, err, babysitter.ErrConflict)
		check(t, "user after UpdateUser with "+tc.name, u, f.getUser(u.Username))
		// The refused email was not reserved.
		if err := s.CreateUser(f.ctx, func() babysitter.User { x := newUser(babysitter.UserNanny); x.Email = next.Email; return x }()); err != nil {
			t.Fatalf("CreateUser with the refused update's email: %v", err)
		}
	}

	// Two updates from the same read: the second is stale.
	next := u
	next.FirstName = "First"
	next.Version++
	if err := s.UpdateUser(f.ctx, asParent(u.Username), u.Email, next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	again := next
	again.FirstName = "Second"
	wantErr(t, "UpdateUser from the same read", s.UpdateUser(f.ctx, asParent(u.Username), u.Email, again), babysitter.ErrConflict)
	check(t, "user after the stale update", next, f.getUser(u.Username))
}

func testUserUpdateMissing(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := newUser(babysitter.UserParent)
	u.Version = 2
	wantErr(t, "UpdateUser of a missing user", s.UpdateUser(f.ctx, asAdmin, u.Email, u), babysitter.ErrNotFound)
	f.wantNoUser(u.Username)
}

func testUserUpdateKeepsStatus(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.user(babysitter.UserNanny, func(u *babysitter.User) { u.Rating = babysitter.Rating{Count: 4, Sum: 17} })
	if _, err := s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusVerified, At: now()}); err != nil {
		t.Fatalf("SetUserStatus: %v", err)
	}
	cur := f.getUser(u.Username)

	// next comes from an older read, and tries to change every non-profile field.
	next := u
	next.Version = cur.Version + 1
	next.FirstName = "Edited"
	next.UpdatedOn = cur.UpdatedOn.Add(time.Second)
	next.Status = babysitter.StatusDeactivated
	next.Rating = babysitter.Rating{}
	next.ID = newID()
	next.Type = babysitter.UserAdmin
	next.CreatedOn = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.UpdateUser(f.ctx, asNanny(u.Username), u.Email, next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := cur
	want.FirstName = "Edited"
	want.UpdatedOn = next.UpdatedOn
	want.Version = next.Version
	check(t, "user after UpdateUser", want, f.getUser(u.Username))
}

func testUserSetStatus(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.user(babysitter.UserParent)
	for _, st := range []babysitter.AccountStatus{babysitter.StatusVerified, babysitter.StatusDeactivated, babysitter.StatusVerified} {
		at := now().Add(time.Minute)
		got, err := s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: st, At: at})
		if err != nil {
			t.Fatalf("SetUserStatus %s: %v", st, err)
		}
		want := u
		want.Status = st
		want.UpdatedOn = at
		// Whether a status change bumps Version is the backend's choice.
		check(t, "SetUserStatus result", want, got, ignoreVersion)
		check(t, "GetUser after SetUserStatus", got, f.getUser(u.Username))
	}
	_, err := s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: uniqueName(), Status: babysitter.StatusVerified, At: now()})
	wantErr(t, "SetUserStatus of a missing user", err, babysitter.ErrNotFound)
}

func testUserDelete(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for _, typ := range []babysitter.UserType{babysitter.UserParent, babysitter.UserNanny} {
		u := f.user(typ)
		if err := noErasure(s.DeleteUser(f.ctx, as(role(typ), u.Username), u.Username, now())); err != nil {
			t.Fatalf("DeleteUser of a %s: %v", typ, err)
		}
		f.wantNoUser(u.Username)
		wantErr(t, "DeleteUser again", noErasure(s.DeleteUser(f.ctx, asAdmin, u.Username, now())), babysitter.ErrNotFound)

		// The email is free again.
		v := newUser(babysitter.UserNanny)
		v.Email = u.Email
		if err := s.CreateUser(f.ctx, v); err != nil {
			t.Fatalf("CreateUser with the deleted %s's email: %v", typ, err)
		}
		// The username is not: its tombstone holds it, for either type,
		// and the refused create reserves nothing.
		for _, again := range []babysitter.UserType{babysitter.UserParent, babysitter.UserNanny} {
			w := newUser(again)
			w.Username = u.Username
			wantExists(t, "CreateUser "+string(again)+" with the deleted "+string(typ)+"'s username", s.CreateUser(f.ctx, w), babysitter.FieldUsername)
			f.wantNoUser(u.Username)
			x := newUser(babysitter.UserParent)
			x.Email = w.Email
			if err := s.CreateUser(f.ctx, x); err != nil {
				t.Fatalf("CreateUser with the refused user's email: %v", err)
			}
		}
	}
	wantErr(t, "DeleteUser of a missing user", noErasure(s.DeleteUser(f.ctx, asAdmin, uniqueName(), now())), babysitter.ErrNotFound)
}

// role is the role that acts through an account of type t.
func role(t babysitter.UserType) babysitter.Role {
	if t == babysitter.UserNanny {
		return babysitter.RoleNanny
	}
	return babysitter.RoleParent
}

func testUserDeleteOpenJob(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	closed := f.job(p.Username)
	open := f.job(p.Username)
	f.cancel(closed)
	wantErr(t, "DeleteUser with an OPEN job", noErasure(s.DeleteUser(f.ctx, asParent(p.Username), p.Username, now())), babysitter.ErrConflict)
	check(t, "parent after the refused delete", p, f.getUser(p.Username))
	f.cancel(open)
	if err := noErasure(s.DeleteUser(f.ctx, asParent(p.Username), p.Username, now())); err != nil {
		t.Fatalf("DeleteUser after cancelling the job: %v", err)
	}
	f.wantNoUser(p.Username)
}

// testUserDeletePendingApplication deletes a nanny with PENDING
// applications: the delete goes ahead, the applications stay PENDING but
// can never be booked, and are declined when their jobs close — by a
// booking of another application or a cancellation.
func testUserDeletePendingApplication(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	n, m := f.nanny(), f.nanny()
	j1, j2 := f.job(p.Username), f.job(p.Username)
	a1, b1 := f.apply(j1.ID, n.Username), f.apply(j1.ID, m.Username)
	a2 := f.apply(j2.ID, n.Username)
	if err := noErasure(s.DeleteUser(f.ctx, asNanny(n.Username), n.Username, now())); err != nil {
		t.Fatalf("DeleteUser of a nanny with PENDING applications: %v", err)
	}
	f.wantNoUser(n.Username)
	f.wantApps(j1.ID, a1, b1)
	f.wantApps(j2.ID, a2)

	for _, a := range []babysitter.Application{a1, a2} {
		j := f.getJob(a.JobID)
		_, _, err := s.BookNanny(f.ctx, booking(j, a.ID))
		wantErr(t, "BookNanny of a deleted nanny's application", err, babysitter.ErrConflict)
		check(t, "job after the refused booking", j, f.getJob(j.ID))
	}
	f.wantApps(j1.ID, a1, b1)
	f.wantApps(j2.ID, a2)

	// j1 is booked with m, j2 cancelled: n's applications are declined.
	_, accepted := f.book(j1, b1)
	f.cancel(j2)
	for _, a := range []babysitter.Application{a1, a2} {
		check(t, "PENDING of job "+a.JobID, []string{a.ID}, f.pendingIDs(a.JobID))
		at := now()
		check(t, "declined of job "+a.JobID, []string{a.ID}, f.declinePending(a.JobID, at).Declined)
		want := []babysitter.Application{withStatus(a, babysitter.ApplicationDeclined, at)}
		if a.JobID == j1.ID {
			want = append(want, accepted)
		}
		f.wantApps(a.JobID, want...)
	}
}

func testUserDeleteAfterBooking(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	n1, n2 := f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1 := f.apply(j.ID, n1.Username)
	a2 := f.apply(j.ID, n2.Username)
	f.book(j, a1)

	// The job is CLOSED, a1 ACCEPTED and a2 still PENDING until declined:
	// none of them blocks a delete, of the nanny declined later included.
	if err := noErasure(s.DeleteUser(f.ctx, asNanny(n2.Username), n2.Username, now())); err != nil {
		t.Fatalf("DeleteUser of a nanny with a PENDING application of a CLOSED job: %v", err)
	}
	check(t, "declined", []string{a2.ID}, f.declinePending(j.ID, now()).Declined)
	if err := noErasure(s.DeleteUser(f.ctx, asNanny(n1.Username), n1.Username, now())); err != nil {
		t.Fatalf("DeleteUser of the booked nanny: %v", err)
	}
	if err := noErasure(s.DeleteUser(f.ctx, asParent(p.Username), p.Username, now())); err != nil {
		t.Fatalf("DeleteUser of the parent of a CLOSED job: %v", err)
	}
	for _, u := range []string{n1.Username, n2.Username, p.Username} {
		f.wantNoUser(u)
	}
}

func testUserList(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	var parents []string
	for range 6 {
		parents = append(parents, f.parent().Username)
	}
	var nannies []string
	for range 2 {
		nannies = append(nannies, f.nanny().Username)
	}
	slices.Sort(parents)
	slices.Sort(nannies)

	for _, tc := range []struct {
		typ  babysitter.UserType
		ours []string
	}{
		{babysitter.UserParent, parents},
		{babysitter.UserNanny, nannies},
	} {
		g := as(role(tc.typ), tc.ours[0])
		eventually(t, func() error {
			pages, err := walk(2, func(p babysitter.PageRequest) (babysitter.Page[babysitter.User], error) {
				return s.ListUsers(f.ctx, g, tc.typ, p)
			}, nil)
			if err != nil {
				return err
			}
			var names []string
			for _, u := range slices.Concat(pages...) {
				if u.Type != tc.typ {
					return same("type of listed user "+u.Username, tc.typ, u.Type)
				}
				names = append(names, u.Username)
			}
			if err := strictlyOrdered(names, false); err != nil {
				return err
			}
			if err := subsequence(tc.ours, names); err != nil {
				return err
			}
			// Alone in the store, the pages are exact: no cursor after the last item.
			if len(names) == len(tc.ours) {
				want := []int{2, 2, 2}[:len(tc.ours)/2]
				if err := same("page sizes of ListUsers "+string(tc.typ), want, sizes(pages)); err != nil {
					return err
				}
			}
			// The users are listed as they are stored.
			for _, u := range slices.Concat(pages...) {
				if slices.Contains(tc.ours, u.Username) {
					if err := same("listed user", f.getUser(u.Username), u); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
}
