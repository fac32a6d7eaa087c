package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter/transport/appsync"
)

// authz is the fixture of the authorization tests, in the shared table
// under usernames of its own: the verified parent pat with the OPEN job j0,
// the verified nanny nell with the PENDING application a0 to it, and the
// admin ada (admins have no account).
type authz struct {
	s       *stack
	pat     caller
	nell    caller
	ada     caller
	j0, a0  string
	counter int
	// docs are the identity documents pat and nell were verified on.
	docs map[string]string
}

func newAuthz(t *testing.T, s *stack, prefix string) *authz {
	t.Helper()
	z := &authz{s: s, pat: user(prefix+"pat", "parent"), nell: user(prefix+"nell", "nanny"), ada: user("ada", "admin"), docs: map[string]string{}}
	z.account(t, z.pat, "PARENT", true)
	z.account(t, z.nell, "NANNY", true)
	z.j0 = z.job(t)
	z.a0 = z.apply(t, z.nell, z.j0)
	return z
}

// account creates c's account of type typ through the API, verified by
// the admin on an identity document c uploads if verify.
func (z *authz) account(t *testing.T, c caller, typ string, verify bool) {
	t.Helper()
	in := newUser(c.name+"@example.com", "First", "Last")
	in["type"] = typ
	z.s.must(t, c, "createUser", createUserQ, obj{"in": in})
	if verify {
		z.docs[c.name] = z.s.verify(t, z.ada, c)
	}
}

// job posts a new OPEN job of pat's and returns its id.
func (z *authz) job(t *testing.T) string {
	t.Helper()
	return str(z.s.must(t, z.pat, "createJob", createJobQ, obj{"in": jobInput()})["id"])
}

// apply makes the nanny apply to the job and returns the application id.
func (z *authz) apply(t *testing.T, nanny caller, jobID string) string {
	t.Helper()
	return str(z.s.must(t, nanny, "applyToJob", applyQ, obj{"job": jobID})["id"])
}

// booked posts a new job of pat's, has nell apply and pat book her, and
// returns the job's id (CLOSED).
func (z *authz) booked(t *testing.T) string {
	t.Helper()
	j := z.job(t)
	app := z.apply(t, z.nell, j)
	z.s.must(t, z.pat, "bookNanny", `mutation($jobId: String!, $applicationId: String!) { bookNanny(jobId: $jobId, applicationId: $applicationId) { declinesQueued } }`,
		obj{"jobId": j, "applicationId": app})
	return j
}

// fresh returns a new username with the prefix.
func (z *authz) fresh(prefix string) string {
	z.counter++
	return fmt.Sprintf("%s%d", prefix, z.counter)
}

// The columns of the authorization table.
const (
	colAPIKey = "api key"
	colAdmin  = "admin"
	colParent = "parent"
	colNanny  = "nanny"
)

var columns = []string{colAPIKey, colAdmin, colParent, colNanny}

// operation is a row: a field, its GraphQL request (whose variables are
// named as the field's arguments, so they are also the arguments of a
// crafted direct event), the columns allowed by the library's "Who may do
// what" table, and the caller and variables of each cell. cell may create
// what an allowed call needs (a fresh job, an account to delete).
type operation struct {
	parent, field string
	query         string
	allowed       []string
	cell          func(t *testing.T, z *authz, col string, allowed bool) (caller, obj)
}

// as returns the column's usual caller with fixed variables.
func as(vars func(z *authz, col string) obj) func(*testing.T, *authz, string, bool) (caller, obj) {
	return func(_ *testing.T, z *authz, col string, _ bool) (caller, obj) {
		return z.caller(col), vars(z, col)
	}
}

func (z *authz) caller(col string) caller {
	switch col {
	case colAdmin:
		return z.ada
	case colParent:
		return z.pat
	case colNanny:
		return z.nell
	}
	return apiKey()
}

// self is the column's own username (pat for the API key column).
func (z *authz) self(col string) string {
	if col == colNanny {
		return z.nell.name
	}
	return z.pat.name
}

var operations = []operation{
	{"Query", "getUser", `query($username: String!) { getUser(username: $username) { username } }`,
		columns, as(func(z *authz, _ string) obj { return obj{"username": z.pat.name} })},
	{"Query", "listUser", `query($type: UserType!) { listUser(type: $type) { items { username } } }`,
		[]string{colAdmin, colParent}, as(func(*authz, string) obj { return obj{"type": "NANNY"} })},
	{"Query", "getJob", `query($jobId: String!) { getJob(jobId: $jobId) { id } }`,
		[]string{colAdmin, colParent, colNanny}, as(func(z *authz, _ string) obj { return obj{"jobId": z.j0} })},
	{"Query", "listAllJobs", `query($jobStatus: JobStatus!) { listAllJobs(jobStatus: $jobStatus) { items { id } } }`,
		[]string{colAdmin, colNanny}, as(func(*authz, string) obj { return obj{"jobStatus": "OPEN"} })},
	{"Query", "listJobsPerParent", `query($username: String) { listJobsPerParent(username: $username) { parent { username } } }`,
		[]string{colAdmin, colParent}, as(func(z *authz, _ string) obj { return obj{"username": z.pat.name} })},
	{"Query", "listApplicationsPerJob", `query($jobId: String!) { listApplicationsPerJob(jobId: $jobId) { job { id } } }`,
		[]string{colAdmin, colParent}, as(func(z *authz, _ string) obj { return obj{"jobId": z.j0} })},
	{"Query", "listJobsAppliedTo", `query($username: String!) { listJobsAppliedTo(username: $username) { nanny { username } } }`,
		[]string{colAdmin, colNanny}, as(func(z *authz, _ string) obj { return obj{"username": z.nell.name} })},

	// Each allowed cell creates the account of a new user of the column's
	// group; the admin and API key cells ask for a PARENT account for
	// themselves.
	{"Mutation", "createUser", `mutation($user: CreateUserInput!) { createUser(user: $user) { username type } }`,
		[]string{colParent, colNanny}, func(_ *testing.T, z *authz, col string, _ bool) (caller, obj) {
			c, typ := z.caller(col), "PARENT"
			switch col {
			case colParent:
				c = user(z.fresh("new.parent"), "parent")
			case colNanny:
				c, typ = user(z.fresh("new.nanny"), "nanny"), "NANNY"
			}
			in := newUser(z.fresh("mail")+"@example.com", "New", "User")
			in["type"] = typ
			return c, obj{"user": in}
		}},
	{"Mutation", "updateUser", `mutation($user: UpdateUserInput!) { updateUser(user: $user) { username about } }`,
		[]string{colAdmin, colParent, colNanny}, as(func(z *authz, col string) obj {
			return obj{"user": obj{"username": z.self(col), "about": "updated by " + col}}
		})},
	{"Mutation", "updateUserStatus", `mutation($username: String!, $status: UserAccountStatus!, $uploadId: ID) { updateUserStatus(username: $username, status: $status, uploadId: $uploadId) { status } }`,
		[]string{colAdmin}, as(func(z *authz, _ string) obj {
			return obj{"username": z.nell.name, "status": "VERIFIED", "uploadId": z.docs[z.nell.name]}
		})},
	// Uploads go to the caller's own account: the API key and admin cells
	// ask for pat's.
	{"Mutation", "requestUpload", `mutation($username: String!, $upload: RequestUploadInput!) { requestUpload(username: $username, upload: $upload) { upload { uploadId } } }`,
		[]string{colParent, colNanny}, as(func(z *authz, col string) obj {
			return obj{"username": z.self(col), "upload": obj{"kind": "picture", "contentType": "image/png", "contentLength": 3}}
		})},
	{"Mutation", "confirmUpload", `mutation($username: String!, $uploadId: ID!) { confirmUpload(username: $username, uploadId: $uploadId) { username } }`,
		[]string{colParent, colNanny}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			owner := z.pat
			if col == colNanny {
				owner = z.nell
			}
			id := z.s.upload(t, owner, "picture", "image/png", []byte("png"))
			return z.caller(col), obj{"username": owner.name, "uploadId": id}
		}},
	// Admins only: not even the document's owner.
	{"Query", "getDocument", `query($username: String!, $uploadId: ID!) { getDocument(username: $username, uploadId: $uploadId) { url } }`,
		[]string{colAdmin}, as(func(z *authz, _ string) obj { return obj{"username": z.pat.name, "uploadId": z.docs[z.pat.name]} })},
	// Allowed cells delete an account made for it: the caller's own, or
	// for the admin someone else's.
	{"Mutation", "deleteUser", `mutation($username: String!) { deleteUser(username: $username) }`,
		[]string{colAdmin, colParent, colNanny}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"username": z.pat.name}
			}
			victim, typ := user(z.fresh("del.parent"), "parent"), "PARENT"
			if col == colNanny {
				victim, typ = user(z.fresh("del.nanny"), "nanny"), "NANNY"
			}
			z.account(t, victim, typ, false)
			c := victim
			if col == colAdmin {
				c = z.ada
			}
			return c, obj{"username": victim.name}
		}},
	{"Mutation", "createJob", `mutation($job: CreateJobInput!) { createJob(job: $job) { id } }`,
		[]string{colParent}, as(func(*authz, string) obj { return obj{"job": jobInput()} })},
	{"Mutation", "updateJob", `mutation($jobId: String!, $job: UpdateJobInput!) { updateJob(jobId: $jobId, job: $job) { id description } }`,
		[]string{colAdmin, colParent}, as(func(z *authz, col string) obj {
			return obj{"jobId": z.j0, "job": obj{"description": "updated by " + col}}
		})},
	{"Mutation", "cancelJob", `mutation($jobId: String!) { cancelJob(jobId: $jobId) { id jobStatus } }`,
		[]string{colAdmin, colParent}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0}
			}
			return z.caller(col), obj{"jobId": z.job(t)}
		}},
	{"Mutation", "applyToJob", `mutation($application: CreateJobApplicationInput!) { applyToJob(application: $application) { id jobApplicationStatus } }`,
		[]string{colNanny}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"application": obj{"jobId": z.j0, "message": "hi"}}
			}
			return z.caller(col), obj{"application": obj{"jobId": z.job(t), "message": "hi"}}
		}},
	{"Mutation", "withdrawApplication", `mutation($jobId: String!, $applicationId: String!) { withdrawApplication(jobId: $jobId, applicationId: $applicationId) { id jobApplicationStatus } }`,
		[]string{colNanny}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0, "applicationId": z.a0}
			}
			j := z.job(t)
			return z.caller(col), obj{"jobId": j, "applicationId": z.apply(t, z.nell, j)}
		}},
	{"Mutation", "bookNanny", `mutation($jobId: String!, $applicationId: String!) { bookNanny(jobId: $jobId, applicationId: $applicationId) { declinesQueued } }`,
		[]string{colParent}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0, "applicationId": z.a0}
			}
			j := z.job(t)
			return z.caller(col), obj{"jobId": j, "applicationId": z.apply(t, z.nell, j)}
		}},
	{"Query", "listReviews", `query($username: String!) { listReviews(username: $username) { items { id } } }`,
		columns, as(func(z *authz, _ string) obj { return obj{"username": z.nell.name} })},
	{"Query", "listJobsNear", `query($latitude: Float!, $longitude: Float!, $radiusKm: Float!) { listJobsNear(latitude: $latitude, longitude: $longitude, radiusKm: $radiusKm) { items { distanceKm } } }`,
		[]string{colAdmin, colNanny}, as(func(*authz, string) obj {
			return obj{"latitude": 52.52, "longitude": 13.405, "radiusKm": 5.0}
		})},
	{"Mutation", "completeJob", `mutation($jobId: String!) { completeJob(jobId: $jobId) { id jobStatus } }`,
		[]string{colParent}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0}
			}
			return z.caller(col), obj{"jobId": z.booked(t)}
		}},
	// Allowed cells review the other party of a job pat booked nell for and
	// completed: pat reviews nell, nell reviews pat.
	{"Mutation", "leaveReview", `mutation($jobId: String!, $review: LeaveReviewInput!) { leaveReview(jobId: $jobId, review: $review) { id direction } }`,
		[]string{colParent, colNanny}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			questions := []string{"punctual", "wouldBookAgain", "followedInstructions"}
			if col == colNanny {
				questions = []string{"clearInstructions", "paidAsAgreed", "wouldWorkAgain"}
			}
			var answers []obj
			for _, q := range questions {
				answers = append(answers, obj{"question": q, "answer": true})
			}
			input := obj{"rating": 5, "text": "great", "answers": answers}
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0, "review": input}
			}
			j := z.booked(t)
			z.s.must(t, z.pat, "completeJob", `mutation($jobId: String!) { completeJob(jobId: $jobId) { id } }`, obj{"jobId": j})
			return z.caller(col), obj{"jobId": j, "review": input}
		}},
	{"Mutation", "reconcileJob", `mutation($jobId: String!) { reconcileJob(jobId: $jobId) { jobId declinesQueued } }`,
		[]string{colAdmin, colParent}, func(t *testing.T, z *authz, col string, allowed bool) (caller, obj) {
			if !allowed {
				return z.caller(col), obj{"jobId": z.j0}
			}
			j := z.job(t)
			z.s.must(t, z.pat, "cancelJob", `mutation($jobId: String!) { cancelJob(jobId: $jobId) { id } }`, obj{"jobId": j})
			return z.caller(col), obj{"jobId": j}
		}},
}

// Authorization twice: every operation × {API key, admin, parent, nanny}
// gets the same answer from the schema's directives (the simulator) and
// from the library (the resolver under its emulator). An allowed cell
// succeeds through the whole stack. A cell the schema rejects is refused
// by the simulator (errorType Unauthorized) without invoking the function,
// and the same call sent to the resolver directly, as the event AppSync
// would send, is refused by the library too (Forbidden, or Unauthenticated
// for the API key).
func TestAuthorizationMatrix(t *testing.T) {
	s := setup(t)
	s.logsOnFailure(t)
	z := newAuthz(t, s, "m.")

	// Every row is a field the resolver routes; a routed field without a
	// row is reported (add one when a field is added).
	rows := map[appsync.Field]bool{}
	for _, op := range operations {
		rows[appsync.Field{Parent: op.parent, Name: op.field}] = true
	}
	routes := appsync.Routes()
	for f := range rows {
		if !slices.Contains(routes, f) {
			t.Errorf("the table has a row for %s, which the resolver does not route", f)
		}
	}
	for _, f := range routes {
		if !rows[f] {
			t.Logf("NOTE: %s has no row in this table yet", f)
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-24s", "operation")
	for _, c := range columns {
		fmt.Fprintf(&table, " | %-22s", c)
	}
	table.WriteString("\n")
	for _, op := range operations {
		fmt.Fprintf(&table, "%-24s", op.field)
		for _, col := range columns {
			want := slices.Contains(op.allowed, col)
			var cellText string
			t.Run(op.field+"/"+strings.ReplaceAll(col, " ", "_"), func(t *testing.T) {
				c, vars := op.cell(t, z, col, want)
				before := s.resolver.Invocations()
				r := s.gql(t, c, op.query, vars)
				schemaAllows := r.ErrorType() != "Unauthorized"
				if want {
					if !schemaAllows || len(r.Errors) > 0 || len(r.Data[op.field]) == 0 || string(r.Data[op.field]) == "null" {
						t.Fatalf("%s as %s: want success through the simulator and the library, got %s", op.field, c.name, r.Raw)
					}
					cellText = "allowed: both"
					return
				}
				if schemaAllows {
					t.Fatalf("%s as %s: the schema let it through: %s", op.field, c.name, r.Raw)
				}
				if n := s.resolver.Invocations() - before; n != 0 {
					t.Fatalf("%s as %s: the simulator refused but invoked the function %d times", op.field, c.name, n)
				}
				_, libType := s.invokeResolver(t, appsyncEvent(c, op.parent, op.field, vars))
				wantType := "Forbidden"
				if c.token == "" {
					wantType = "Unauthenticated"
				}
				if libType != wantType {
					t.Fatalf("%s as %s: the library answered %q to the direct call, want %s", op.field, c.name, libType, wantType)
				}
				cellText = "denied: Unauthorized/" + libType
			})
			if cellText == "" {
				cellText = "FAILED"
			}
			fmt.Fprintf(&table, " | %-22s", cellText)
		}
		table.WriteString("\n")
	}
	t.Logf("simulator directive / library, per operation and caller:\n%s", table.String())
}

// What only the library can decide, because the schema lets the group
// through: ownership (another parent's job, another nanny's application)
// and account status (a DEACTIVATED or an unverified account). The library
// refuses each with errorType Forbidden, as a GraphQL error.
func TestLibraryOnlyDecisions(t *testing.T) {
	s := setup(t)
	s.logsOnFailure(t)
	z := newAuthz(t, s, "l.")
	paula := user("paula", "parent") // a second verified parent
	z.account(t, paula, "PARENT", true)
	nico := user("nico", "nanny") // a second verified nanny
	z.account(t, nico, "NANNY", true)
	dora := user("dora", "nanny") // deactivated by the admin
	z.account(t, dora, "NANNY", true)
	s.must(t, z.ada, "updateUserStatus", verifyQ, obj{"u": "dora", "s": "DEACTIVATED"})
	dan := user("dan", "parent") // deactivated parent
	z.account(t, dan, "PARENT", true)
	s.must(t, z.ada, "updateUserStatus", verifyQ, obj{"u": "dan", "s": "DEACTIVATED"})
	uma := user("uma", "nanny") // never verified
	z.account(t, uma, "NANNY", false)

	cases := []struct {
		name   string
		c      caller
		field  string
		query  string
		vars   obj
		reason string
	}{
		{"another parent books", paula, "bookNanny", bookQ, obj{"job": z.j0, "app": z.a0}, "ownership"},
		{"another parent lists applications", paula, "listApplicationsPerJob", appsForJobQ, obj{"job": z.j0}, "ownership"},
		{"another parent lists a parent's jobs", paula, "listJobsPerParent", parentJobsQ, obj{"u": z.pat.name}, "ownership"},
		{"another parent cancels", paula, "cancelJob", `mutation($jobId: String!) { cancelJob(jobId: $jobId) { id } }`, obj{"jobId": z.j0}, "ownership"},
		{"another nanny lists applications", nico, "listJobsAppliedTo", appliedToQ, obj{"u": z.nell.name}, "ownership"},
		{"another user updates a profile", nico, "updateUser", `mutation($u: String!) { updateUser(user: {username: $u, about: "x"}) { username } }`, obj{"u": z.nell.name}, "ownership"},
		{"a deactivated nanny applies", dora, "applyToJob", applyQ, obj{"job": z.j0}, "account status"},
		{"a deactivated nanny lists jobs", dora, "listAllJobs", openJobsQ, nil, "account status"},
		{"a deactivated parent posts a job", dan, "createJob", createJobQ, obj{"in": jobInput()}, "account status"},
		{"an unverified nanny applies", uma, "applyToJob", applyQ, obj{"job": z.j0}, "account status"},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			before := s.resolver.Invocations()
			msg := s.wantError(t, tc.c, tc.field, "Forbidden", tc.query, tc.vars)
			if s.resolver.Invocations() == before {
				t.Fatal("the resolver was not invoked: this was not the library's decision")
			}
			t.Logf("%s (%s): Forbidden: %s", tc.name, tc.reason, msg)
		})
	}
	// Nothing changed: j0 is still OPEN with a0 PENDING.
	if got := applicationStatuses(t, s, z.j0); got[z.nell.name] != "PENDING" || len(got) != 1 {
		t.Fatalf("j0's applications after the refused calls: %v", got)
	}
}
