package storetest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var guardCases = []testCase{
	{"deactivated parent can do nothing", testGuardDeactivatedParent},
	{"deactivated nanny can do nothing", testGuardDeactivatedNanny},
	{"unverified nanny cannot apply when verified is required", testGuardUnverified},
	{"missing account", testGuardMissingAccount},
	{"zero guard and unknown roles are refused", testGuardZero},
	{"PARENT account with a nanny's role", testGuardParentAccountNannyRole},
	{"NANNY account with a parent's role", testGuardNannyAccountParentRole},
	{"another identity of the account's username", testGuardOtherSubject},
	{"an account bound to no subject", testGuardUnbound},
	{"admin acts without an account", testGuardAdmin},
	{"a deleted parent's job is no one's", testGuardDeletedParent},
}

// deactivate sets username's status to DEACTIVATED.
func (f *fixture) deactivate(username string) {
	f.t.Helper()
	f.setStatus(username, babysitter.StatusDeactivated)
}

func (f *fixture) setStatus(username string, st babysitter.AccountStatus) {
	f.t.Helper()
	if _, err := f.s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: username, Status: st, At: now()}); err != nil {
		f.t.Fatalf("SetUserStatus %s %s: %v", username, st, err)
	}
}

// scene is a small marketplace on which every guarded Store method has
// something to do: parent p with OPEN jobs j (nanny n applied: a) and k,
// and a COMPLETED job c booked with n (accepted); an OPEN job o of another
// parent; victim, an account with nothing, which only DeleteUser targets.
type scene struct {
	f            *fixture
	p, n, victim babysitter.User
	j, k, c, o   babysitter.Job
	a, accepted  babysitter.Application
	created      []string // IDs of the jobs the calls try to insert
}

func (f *fixture) scene() *scene {
	f.t.Helper()
	p, q, n, victim := f.parent(), f.parent(), f.nanny(), f.nanny()
	sc := &scene{f: f, p: p, n: n, victim: victim}
	sc.c, sc.accepted = f.completed(p.Username, n.Username)
	sc.j, sc.k, sc.o = f.job(p.Username), f.job(p.Username), f.job(q.Username)
	sc.a = f.apply(sc.j.ID, n.Username)
	sc.snapshot()
	return sc
}

// snapshot rereads the scene's users and jobs.
func (sc *scene) snapshot() {
	f := sc.f
	f.t.Helper()
	sc.p, sc.n, sc.victim = f.getUser(sc.p.Username), f.getUser(sc.n.Username), f.getUser(sc.victim.Username)
	sc.j, sc.k, sc.c, sc.o = f.getJob(sc.j.ID), f.getJob(sc.k.ID), f.getJob(sc.c.ID), f.getJob(sc.o.ID)
}

// guardedCall is one call of a guarded Store method, made with a Guard.
type guardedCall struct {
	name string
	// parent and nanny say whether the call passes the store with the
	// own Guard of the account it was made for, when that account is a
	// PARENT or a NANNY one.
	parent, nanny bool
	call          func(babysitter.Guard) error
}

// calls returns one call of every guarded Store method, reads included,
// made for self (sc.p or sc.n): each passes the store with self's own
// Guard (where the flags say so), so only the Guard can refuse it.
func (sc *scene) calls(self babysitter.User) []guardedCall {
	s, ctx := sc.f.s, sc.f.ctx
	pr := babysitter.PageRequest{Limit: 5}
	edit := self
	edit.FirstName = "Edited"
	edit.Version++
	newJ := newJob(self.Username)
	editJ := sc.j
	editJ.Description = "Edited."
	editJ.Version++
	newA := newApplication(sc.o.ID, self.Username)
	sc.created = append(sc.created, newJ.ID)
	rv := review(sc.c.ID, babysitter.ReviewOfNanny, sc.p.Username, sc.n.Username, 4)
	if self.Type == babysitter.UserNanny {
		rv = review(sc.c.ID, babysitter.ReviewOfParent, sc.n.Username, sc.p.Username, 5)
	}
	// A point of its own, so the read stays small on a shared store.
	ranges := []babysitter.GeoRange{rangeAt(-60+rand.Float64()*120, -170+rand.Float64()*340)}
	const y, n = true, false
	return []guardedCall{
		{"UpdateUser", y, y, func(g babysitter.Guard) error { return s.UpdateUser(ctx, g, self.Email, edit) }},
		{"DeleteUser", n, n, func(g babysitter.Guard) error { return noErasure(s.DeleteUser(ctx, g, sc.victim.Username, now())) }},
		{"ListUsers", y, y, func(g babysitter.Guard) error {
			_, err := s.ListUsers(ctx, g, babysitter.UserNanny, pr)
			return err
		}},
		{"CreateJob", y, n, func(g babysitter.Guard) error { return s.CreateJob(ctx, g, newJ) }},
		{"GetJob", y, y, func(g babysitter.Guard) error { _, err := s.GetJob(ctx, g, sc.j.ID); return err }},
		{"UpdateJob", y, n, func(g babysitter.Guard) error { return s.UpdateJob(ctx, g, editJ) }},
		{"TransitionJob", y, n, func(g babysitter.Guard) error { _, err := s.TransitionJob(ctx, g, cancelling(sc.k.ID)); return err }},
		{"ListJobsByStatus", y, y, func(g babysitter.Guard) error {
			_, err := s.ListJobsByStatus(ctx, g, babysitter.JobOpen, pr)
			return err
		}},
		{"ListJobsByParent", y, n, func(g babysitter.Guard) error {
			_, _, err := s.ListJobsByParent(ctx, g, self.Username, pr)
			return err
		}},
		{"ListOpenJobsInRanges", y, y, func(g babysitter.Guard) error { _, err := s.ListOpenJobsInRanges(ctx, g, ranges); return err }},
		{"ApplyToJob", n, y, func(g babysitter.Guard) error { return s.ApplyToJob(ctx, g, newA) }},
		{"WithdrawApplication", n, y, func(g babysitter.Guard) error {
			_, err := s.WithdrawApplication(ctx, g, ref(sc.j.ID, sc.a.ID), now())
			return err
		}},
		{"ListApplicationsForJob", y, n, func(g babysitter.Guard) error {
			_, _, err := s.ListApplicationsForJob(ctx, g, sc.j.ID, pr)
			return err
		}},
		{"ListJobsAppliedTo", n, y, func(g babysitter.Guard) error {
			_, _, err := s.ListJobsAppliedTo(ctx, g, self.Username, pr)
			return err
		}},
		{"BookNanny", y, n, func(g babysitter.Guard) error {
			_, _, err := s.BookNanny(ctx, babysitter.BookRequest{Guard: g, ApplicationRef: ref(sc.j.ID, sc.a.ID), Applicant: active, At: now()})
			return err
		}},
		{"CreateReview", y, y, func(g babysitter.Guard) error { return s.CreateReview(ctx, g, rv) }},
	}
}

// rangeAt is the geohash index range of exactly the point's key.
func rangeAt(lat, lon float64) babysitter.GeoRange {
	key := babysitter.Geohash(lat, lon, babysitter.GeoKeyPrecision)
	return babysitter.GeoRange{Cell: babysitter.Geohash(lat, lon, babysitter.GeoCellPrecision), From: key, To: key}
}

// wantRefused makes every guarded call for self with each of the Guards:
// each must be ErrForbidden, and nothing is written.
func (sc *scene) wantRefused(self babysitter.User, guards ...babysitter.Guard) {
	t := sc.f.t
	t.Helper()
	for _, g := range guards {
		for _, c := range sc.calls(self) {
			err := c.call(g)
			if !errors.Is(err, babysitter.ErrForbidden) {
				t.Errorf("%s with Guard %+v: got error %v, want forbidden", c.name, g.Actor, err)
			}
		}
	}
	sc.wantUnchanged()
}

// wantUnchanged fails unless the scene is as it was at its last snapshot.
func (sc *scene) wantUnchanged() {
	f, t := sc.f, sc.f.t
	t.Helper()
	for _, u := range []babysitter.User{sc.p, sc.n, sc.victim} {
		check(t, "user "+u.Username, u, f.getUser(u.Username))
	}
	for _, j := range []babysitter.Job{sc.j, sc.k, sc.c, sc.o} {
		check(t, "job "+j.ID, j, f.getJob(j.ID))
	}
	for _, id := range sc.created {
		f.wantNoJob(id)
	}
	f.wantApps(sc.j.ID, sc.a)
	f.wantApps(sc.k.ID)
	f.wantApps(sc.c.ID, sc.accepted)
	f.wantApps(sc.o.ID)
	for _, u := range []string{sc.p.Username, sc.n.Username} {
		page, err := f.s.ListReviews(f.ctx, u, babysitter.PageRequest{Limit: 5})
		if err != nil {
			t.Fatalf("ListReviews %s: %v", u, err)
		}
		check(t, "reviews of "+u, []babysitter.Review(nil), page.Items)
	}
}

// wantAllowed makes the calls self's own Guard passes, in order: each must
// succeed. It shows that what wantRefused refused was the Guard's doing.
func (sc *scene) wantAllowed(self babysitter.User) {
	t := sc.f.t
	t.Helper()
	sc.snapshot()
	self = sc.f.getUser(self.Username)
	g := as(role(self.Type), self.Username)
	for _, c := range sc.calls(self) {
		if self.Type == babysitter.UserParent && !c.parent || self.Type == babysitter.UserNanny && !c.nanny {
			continue
		}
		if err := c.call(g); err != nil {
			t.Errorf("%s with %s's own Guard: %v", c.name, self.Username, err)
		}
	}
}

func testGuardDeactivatedParent(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	sc := f.scene()
	f.deactivate(sc.p.Username)
	sc.snapshot()
	sc.wantRefused(sc.p, asParent(sc.p.Username))
	f.setStatus(sc.p.Username, babysitter.StatusVerified)
	sc.wantAllowed(sc.p)
}

func testGuardDeactivatedNanny(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	sc := f.scene()
	f.deactivate(sc.n.Username)
	sc.snapshot()
	// Even with DEACTIVATED listed: a deactivated user does nothing.
	g := asNanny(sc.n.Username)
	g.Allow = []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified, babysitter.StatusDeactivated}
	sc.wantRefused(sc.n, asNanny(sc.n.Username), g)
	f.setStatus(sc.n.Username, babysitter.StatusVerified)
	sc.wantAllowed(sc.n)
}

// testGuardParentAccountNannyRole: the role comes from the token and is
// bound to the account type; a nanny's role acting through a PARENT
// account is refused everything, reads included.
func testGuardParentAccountNannyRole(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	sc := f.scene()
	sc.wantRefused(sc.p, as(babysitter.RoleNanny, sc.p.Username))
	sc.wantAllowed(sc.p)
}

// testGuardNannyAccountParentRole: the same for a parent's role acting
// through a NANNY account.
func testGuardNannyAccountParentRole(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	sc := f.scene()
	sc.wantRefused(sc.n, as(babysitter.RoleParent, sc.n.Username))
	sc.wantAllowed(sc.n)
}

// testGuardOtherSubject: an account is bound to the identity that
// created it (User.Subject). Another identity of the same username — an
// identity provider that gave a deleted user's name to a newcomer — or an
// identity without a subject is refused everything, reads included.
func testGuardOtherSubject(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for _, typ := range []babysitter.UserType{babysitter.UserParent, babysitter.UserNanny} {
		sc := f.scene()
		self := sc.p
		if typ == babysitter.UserNanny {
			self = sc.n
		}
		other, none := as(role(typ), self.Username), as(role(typ), self.Username)
		other.Actor.Subject, none.Actor.Subject = "sub-newcomer", ""
		sc.wantRefused(self, other, none)
		sc.wantAllowed(self)
	}
}

// testGuardUnbound: an account bound to no subject (created by an actor
// without one, or before accounts were bound) lets its username act
// whatever the subject, as before.
func testGuardUnbound(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	unbound := func(u *babysitter.User) { u.Subject = "" }
	p := f.user(babysitter.UserParent, unbound)
	check(t, "the unbound account as stored", p, f.getUser(p.Username))
	for _, sub := range []string{"", "sub-anyone"} {
		g := asParent(p.Username)
		g.Actor.Subject = sub
		j := newJob(p.Username)
		if err := s.CreateJob(f.ctx, g, j); err != nil {
			t.Errorf("CreateJob through an unbound account with subject %q: %v", sub, err)
		}
	}
}

// testGuardZero: a Guard checks something whatever it holds; the zero
// Guard, and any role but admin, parent and nanny, pass nothing.
func testGuardZero(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	sc := f.scene()
	p := sc.p.Username
	all := []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified, babysitter.StatusDeactivated}
	sc.wantRefused(sc.p,
		babysitter.Guard{},
		babysitter.Guard{Allow: all},
		babysitter.Guard{Actor: babysitter.Actor{Username: p}, Allow: all},
		babysitter.Guard{Actor: babysitter.Actor{Username: p, Role: "PARENT"}, Allow: all},
		babysitter.Guard{Actor: babysitter.Actor{Username: p, Role: "superuser"}, Allow: all},
		babysitter.Guard{Actor: babysitter.Actor{Role: babysitter.RoleParent}, Allow: all},
	)
	sc.wantAllowed(sc.p)
}

func testGuardUnverified(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny() // both UNVERIFIED
	j := f.job(p.Username)
	a := newApplication(j.ID, n.Username)
	g := asNanny(n.Username)
	g.Allow = verified
	wantErr(t, "ApplyToJob by an UNVERIFIED nanny", s.ApplyToJob(f.ctx, g, a), babysitter.ErrForbidden)
	f.wantApps(j.ID)

	f.setStatus(n.Username, babysitter.StatusVerified)
	if err := s.ApplyToJob(f.ctx, g, a); err != nil {
		t.Fatalf("ApplyToJob by the VERIFIED nanny: %v", err)
	}
	f.wantApps(j.ID, a)

	// The same for a parent booking.
	r := booking(j, a.ID)
	r.Guard.Allow = verified
	_, _, err := s.BookNanny(f.ctx, r)
	wantErr(t, "BookNanny by an UNVERIFIED parent", err, babysitter.ErrForbidden)
	check(t, "job after the refused booking", j, f.getJob(j.ID))
	f.wantApps(j.ID, a)
	f.setStatus(p.Username, babysitter.StatusVerified)
	if _, _, err := s.BookNanny(f.ctx, r); err != nil {
		t.Fatalf("BookNanny by the VERIFIED parent: %v", err)
	}
}

func testGuardMissingAccount(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	ghost := uniqueName()
	newJ := newJob(ghost)
	a := newApplication(j.ID, ghost)
	wantErr(t, "CreateJob by a missing account", s.CreateJob(f.ctx, asParent(ghost), newJ), babysitter.ErrForbidden)
	wantErr(t, "ApplyToJob by a missing account", s.ApplyToJob(f.ctx, asNanny(ghost), a), babysitter.ErrForbidden)
	_, err := s.GetJob(f.ctx, asNanny(ghost), j.ID)
	wantErr(t, "GetJob by a missing account", err, babysitter.ErrForbidden)
	_, err = s.ListJobsByStatus(f.ctx, asNanny(ghost), babysitter.JobOpen, babysitter.PageRequest{Limit: 1})
	wantErr(t, "ListJobsByStatus by a missing account", err, babysitter.ErrForbidden)
	// Acting for someone else does not help: the Guard is on the actor.
	other := newJob(p.Username)
	wantErr(t, "CreateJob for an existing parent by a missing account", s.CreateJob(f.ctx, asParent(ghost), other), babysitter.ErrForbidden)
	wantErr(t, "ApplyToJob for an existing nanny by a missing account", s.ApplyToJob(f.ctx, asNanny(ghost), newApplication(j.ID, n.Username)), babysitter.ErrForbidden)
	f.wantNoJob(newJ.ID)
	f.wantNoJob(other.ID)
	f.wantApps(j.ID)
}

// testGuardAdmin: an admin has no account (asAdmin's username has none)
// and manages every job; the target's status does not matter.
func testGuardAdmin(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	f.wantNoUser(asAdmin.Actor.Username)
	u := f.parent()
	f.deactivate(u.Username)
	next := f.getUser(u.Username)
	next.FirstName = "By admin"
	next.Version++
	if err := s.UpdateUser(f.ctx, asAdmin, next.Email, next); err != nil {
		t.Fatalf("UpdateUser of a deactivated user by an admin: %v", err)
	}
	check(t, "user after the admin's update", next, f.getUser(u.Username))

	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	f.deactivate(p.Username)
	edit := j
	edit.Description = "By admin."
	edit.Version++
	if err := s.UpdateJob(f.ctx, asAdmin, edit); err != nil {
		t.Fatalf("UpdateJob of a deactivated parent's job by an admin: %v", err)
	}
	got, page, err := s.ListApplicationsForJob(f.ctx, asAdmin, j.ID, babysitter.PageRequest{Limit: 5})
	if err != nil {
		t.Fatalf("ListApplicationsForJob by an admin: %v", err)
	}
	check(t, "job listed by an admin", edit, got)
	check(t, "applications listed by an admin", []babysitter.Application{a}, page.Items)
	if _, err := s.TransitionJob(f.ctx, asAdmin, cancelling(j.ID)); err != nil {
		t.Fatalf("TransitionJob of a deactivated parent's job by an admin: %v", err)
	}
}

// testGuardDeletedParent: a parent deleted while owning a CLOSED job
// leaves it to no one. A Guard of their username — still the job's
// ParentUsername, so ownership alone would pass — finds no account, and
// the username's tombstone keeps anyone from making one.
func testGuardDeletedParent(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	j, accepted := f.book(j, f.apply(j.ID, n.Username))
	if err := noErasure(s.DeleteUser(f.ctx, asParent(p.Username), p.Username, now())); err != nil {
		t.Fatalf("DeleteUser of a parent with a CLOSED job: %v", err)
	}
	again := newUser(babysitter.UserParent)
	again.Username = p.Username
	wantExists(t, "CreateUser of the deleted parent's username", s.CreateUser(f.ctx, again), babysitter.FieldUsername)
	f.wantNoUser(p.Username)

	g := asParent(p.Username)
	pr := babysitter.PageRequest{Limit: 5}
	_, _, err := s.ListApplicationsForJob(f.ctx, g, j.ID, pr)
	wantErr(t, "ListApplicationsForJob of the old job", err, babysitter.ErrForbidden)
	_, err = s.TransitionJob(f.ctx, g, completing(j.ID))
	wantErr(t, "TransitionJob of the old job to COMPLETED", err, babysitter.ErrForbidden)
	_, _, err = s.ListJobsByParent(f.ctx, g, p.Username, pr)
	wantErr(t, "ListJobsByParent of the deleted parent", err, babysitter.ErrForbidden)
	newJ := newJob(p.Username)
	wantErr(t, "CreateJob for the deleted parent", s.CreateJob(f.ctx, g, newJ), babysitter.ErrForbidden)
	f.wantNoJob(newJ.ID)
	check(t, "the old job", j, f.getJob(j.ID))
	f.wantApps(j.ID, accepted)

	// Completed by an admin, the job takes no review from the username.
	f.complete(j.ID)
	r := review(j.ID, babysitter.ReviewOfNanny, p.Username, n.Username, 1)
	wantErr(t, "CreateReview of the nanny by the deleted parent", s.CreateReview(f.ctx, g, r), babysitter.ErrForbidden)
	check(t, "the nanny's rating", babysitter.Rating{}, f.getUser(n.Username).Rating)
}
