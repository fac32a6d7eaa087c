// Command scratchmod is a program of another module that imports
// babysitter as a user would: the root package, the memory backends (store,
// queue, blobs, notifier) and the HTTP API. TestImportedByAnotherModule
// (module_test.go) builds it in a module of its own, outside the
// repository, and runs it. It plays the tutorial's booking story over
// HTTP — each account verified on an identity document uploaded through a
// presigned PUT — and exits non-zero if any step goes otherwise.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/babysitter-go/babysitter"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "booking story:", err)
		os.Exit(1)
	}
	fmt.Println("booking story: bob booked, carol declined")
}

const key = "scratch-module-signing-key-0123456789"

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store := smemory.New()
	queue := qmemory.New(qmemory.Options{WaitTime: 50 * time.Millisecond})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	blobs, err := bmemory.New(bmemory.Options{BaseURL: srv.URL + "/blobs/", PublicPrefixes: []string{babysitter.PublicKeyPrefix}})
	if err != nil {
		return err
	}
	svc := babysitter.New(store, queue, babysitter.Options{Blobs: blobs, PublicBaseURL: srv.URL + "/blobs/"})
	notes := nmemory.New(nmemory.Options{})
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{Notifier: notes})
	go func() { _ = (&babysitter.Poller{Source: queue, Handler: decliner.HandleBatch}).Run(ctx) }()
	mux.Handle("/blobs/", blobs.Handler())
	mux.Handle("/", httpapi.New(svc, jwtauth.NewHS256(key, 0), httpapi.Options{}))
	c := client{url: srv.URL}

	alice, bob, carol, admin := token("alice", "parent"), token("bob", "nanny"), token("carol", "nanny"), token("admin", "admin")
	for _, u := range []struct{ tok, name, typ string }{{alice, "alice", "PARENT"}, {bob, "bob", "NANNY"}, {carol, "carol", "NANNY"}} {
		c.do("POST", "/v1/users", u.tok, map[string]any{"username": u.name, "email": u.name + "@example.com", "type": u.typ,
			"firstName": u.name, "lastName": "Smith", "dateOfBirth": "1990-04-01"}, http.StatusCreated, nil)
		id := []byte("%PDF-1.7 identity card")
		var ticket babysitter.UploadTicket
		c.do("POST", "/v1/users/"+u.name+"/uploads", u.tok, map[string]any{"kind": "document", "contentType": "application/pdf", "contentLength": len(id)}, http.StatusCreated, &ticket)
		c.send(ticket.Request, id)
		c.do("POST", "/v1/users/"+u.name+"/uploads/"+ticket.Upload.ID+"/confirm", u.tok, nil, http.StatusOK, nil)
		c.do("PUT", "/v1/users/"+u.name+"/status", admin, map[string]any{"status": "VERIFIED", "uploadId": ticket.Upload.ID}, http.StatusOK, nil)
	}
	var job babysitter.Job
	c.do("POST", "/v1/jobs", alice, map[string]any{"jobType": "BABYSITTING", "description": "Two kids, one evening", "numberOfKids": 2,
		"startDate": "2030-06-01", "endDate": "2030-06-01", "startTime": "18:00", "endTime": "23:00",
		"address": "1 Main Street", "city": "Berlin", "latitude": 52.52, "longitude": 13.405,
		"cost": map[string]any{"amount": 6000, "currency": "EUR"}}, http.StatusCreated, &job)
	var bobApp, carolApp babysitter.Application
	c.do("POST", "/v1/jobs/"+job.ID+"/applications", bob, nil, http.StatusCreated, &bobApp)
	c.do("POST", "/v1/jobs/"+job.ID+"/applications", carol, nil, http.StatusCreated, &carolApp)
	var booking babysitter.Booking
	c.do("POST", "/v1/jobs/"+job.ID+"/booking", alice, map[string]any{"applicationId": bobApp.ID}, http.StatusOK, &booking)
	if c.err != nil {
		return c.err
	}
	if booking.Job.Status != babysitter.JobClosed || booking.Application.NannyUsername != "bob" || booking.DeclinesQueued != 1 {
		return fmt.Errorf("booking %+v", booking)
	}
	for {
		var apps babysitter.JobApplications
		c.do("GET", "/v1/jobs/"+job.ID+"/applications", alice, nil, http.StatusOK, &apps)
		if c.err != nil {
			return c.err
		}
		status := map[string]babysitter.ApplicationStatus{}
		for _, a := range apps.Applications.Items {
			status[a.NannyUsername] = a.Status
		}
		told := map[babysitter.NotificationType]string{}
		for _, n := range notes.Published() {
			told[n.Type] = n.Recipient
		}
		if status["bob"] == babysitter.ApplicationAccepted && status["carol"] == babysitter.ApplicationDeclined &&
			told[babysitter.NotifyBooked] == "bob" && told[babysitter.NotifyDeclined] == "carol" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("carol is not declined, or not told: %v, %v", status, notes.Published())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func token(user, group string) string {
	t, err := jwtauth.MintDevToken(key, user, []string{group}, time.Hour, time.Now())
	if err != nil {
		panic(err)
	}
	return t
}

// client sends JSON requests; the first failure sticks in err.
type client struct {
	url string
	err error
}

func (c *client) do(method, path, tok string, body any, status int, out any) {
	if c.err != nil {
		return
	}
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.err = err
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		c.err = fmt.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, b)
		return
	}
	if out != nil {
		c.err = json.Unmarshal(b, out)
	}
}

// send sends a presigned request as is, with body: what a browser or an
// app does with the request RequestUpload hands out.
func (c *client) send(pr babysitter.PresignedRequest, body []byte) {
	if c.err != nil {
		return
	}
	req, _ := http.NewRequest(pr.Method, pr.URL, bytes.NewReader(body))
	for k, v := range pr.Headers {
		if k != "Content-Length" { // net/http sends the body's
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.err = err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.err = fmt.Errorf("%s %s: %d: %s", pr.Method, pr.URL, resp.StatusCode, b)
	}
}
