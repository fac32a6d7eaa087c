package httpapi

import (
	"net/http"
	"testing"

	"github.com/babysitter-go/babysitter"
)

// trustScenarios replays, over HTTP, the attacks of issue 12 that the
// library let through before every rule was bound to the stored account:
// each step now gets a refusal and writes nothing. The names are the
// story's own, so each backend's run is independent.
func trustScenarios(t *testing.T, e *testEnv) {
	admin := token(t, "admin", "admin")
	verified := func(tok, name string, typ babysitter.UserType) {
		t.Helper()
		want[babysitter.User](t, e.do("POST", "/v1/users", tok, userBody(name, typ)), http.StatusCreated)
		e.verify(admin, tok, name)
	}
	refused := func(what, method, path, tok string, body any, status int, code string) {
		t.Helper()
		before := e.snapshot()
		wantProblem(t, e.do(method, path, tok, body), status, code)
		e.noWrites(before, true, what)
	}

	// A parent books a nanny whose account an admin has deactivated: 409.
	t.Run("booking a deactivated nanny", func(t *testing.T) {
		dora, vic := token(t, "dora", "parent"), token(t, "vic", "nanny")
		verified(dora, "dora", babysitter.UserParent)
		verified(vic, "vic", babysitter.UserNanny)
		job := want[babysitter.Job](t, e.do("POST", "/v1/jobs", dora, jobBody()), http.StatusCreated)
		app := want[babysitter.Application](t, e.do("POST", "/v1/jobs/"+job.ID+"/applications", vic, nil), http.StatusCreated)
		want[babysitter.User](t, e.do("PUT", "/v1/users/vic/status", admin, map[string]string{"status": "DEACTIVATED"}), http.StatusOK)
		refused("booking a deactivated nanny", "POST", "/v1/jobs/"+job.ID+"/booking", dora, map[string]string{"applicationId": app.ID}, http.StatusConflict, "conflict")
		if j := want[babysitter.Job](t, e.do("GET", "/v1/jobs/"+job.ID, dora, nil), http.StatusOK); j.Status != babysitter.JobOpen {
			t.Errorf("job is %s after the refused booking", j.Status)
		}
	})

	// The role is held against the stored account type: a PARENT account
	// with a nanny token, and a NANNY account with a parent token, are
	// refused (403) at every step.
	t.Run("role bound to the account type", func(t *testing.T) {
		pam, pamAsNanny := token(t, "pam", "parent"), token(t, "pam", "nanny")
		nick, nickAsParent := token(t, "nick", "nanny"), token(t, "nick", "parent")
		verified(pam, "pam", babysitter.UserParent)
		verified(nick, "nick", babysitter.UserNanny)
		job := want[babysitter.Job](t, e.do("POST", "/v1/jobs", pam, jobBody()), http.StatusCreated)
		jobs := "/v1/jobs/" + job.ID
		refused("a PARENT account applying to its own job as a nanny", "POST", jobs+"/applications", pamAsNanny, nil, http.StatusForbidden, "forbidden")
		refused("a NANNY account posting a job as a parent", "POST", "/v1/jobs", nickAsParent, jobBody(), http.StatusForbidden, "forbidden")
		refused("a NANNY account reading a job's applicants as a parent", "GET", jobs+"/applications", nickAsParent, nil, http.StatusForbidden, "forbidden")

		// The real story, then pam tries to review herself as the nanny.
		app := want[babysitter.Application](t, e.do("POST", jobs+"/applications", nick, nil), http.StatusCreated)
		want[babysitter.Booking](t, e.do("POST", jobs+"/booking", pam, map[string]string{"applicationId": app.ID}), http.StatusOK)
		want[babysitter.Job](t, e.do("POST", jobs+"/complete", pam, nil), http.StatusOK)
		refused("a PARENT account reviewing the parent as the nanny", "POST", jobs+"/reviews", pamAsNanny, reviewOfParentBody(5), http.StatusForbidden, "forbidden")
		if u := want[babysitter.User](t, e.do("GET", "/v1/users/pam", pam, nil), http.StatusOK); u.Rating.Count != 0 {
			t.Errorf("pam's rating count is %d after refused self-reviews", u.Rating.Count)
		}
	})

	// A deleted username is a tombstone: nobody registers it again, so the
	// old job's applicants, its completion and its reviews stay out of a
	// stranger's reach.
	t.Run("deleted username never reused", func(t *testing.T) {
		olga, nell := token(t, "olga", "parent"), token(t, "nell", "nanny")
		verified(olga, "olga", babysitter.UserParent)
		verified(nell, "nell", babysitter.UserNanny)
		job := want[babysitter.Job](t, e.do("POST", "/v1/jobs", olga, jobBody()), http.StatusCreated)
		jobs := "/v1/jobs/" + job.ID
		app := want[babysitter.Application](t, e.do("POST", jobs+"/applications", nell, nil), http.StatusCreated)
		want[babysitter.Booking](t, e.do("POST", jobs+"/booking", olga, map[string]string{"applicationId": app.ID}), http.StatusOK)
		if r := e.do("DELETE", "/v1/users/olga", olga, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE olga: %d %s", r.status, r.body)
		}
		body := userBody("olga", babysitter.UserParent)
		body["email"] = "new.olga@example.com"
		p := wantProblem(t, e.do("POST", "/v1/users", olga, body), http.StatusConflict, "already_exists")
		if p.Field != babysitter.FieldUsername {
			t.Errorf("re-registering a deleted username: field %q, want username", p.Field)
		}
		refused("the old token reading the old job's applicants", "GET", jobs+"/applications", olga, nil, http.StatusForbidden, "forbidden")
		refused("the old token completing the old job", "POST", jobs+"/complete", olga, nil, http.StatusForbidden, "forbidden")
		refused("the old token reviewing the nanny", "POST", jobs+"/reviews", olga, reviewOfNannyBody(1), http.StatusForbidden, "forbidden")
	})
}
