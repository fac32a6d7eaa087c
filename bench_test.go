package babysitter

import (
	"testing"
	"time"
)

// Micro-benchmarks of the Service's own work on every call: validation,
// cursors, decline messages. Run with
//
//	go test -run '^$' -bench . -benchmem -count 6 . | benchstat -
//
// (see BENCHMARKS.md).

var benchResult any

func benchNewUser() NewUser {
	lat, lon := 52.52, 13.405
	return NewUser{
		Username: "ada.lovelace",
		Email:    "Ada.Lovelace@Example.com",
		Type:     UserNanny,
		Profile: Profile{
			FirstName: "Ada", LastName: "Lovelace", DateOfBirth: Date{1990, time.December, 10},
			Address: "1 Main Street", About: "Likes engines.", Latitude: &lat, Longitude: &lon,
			PhoneNumber: "+4915112345678", SpokenLanguages: []string{"en", "de"},
			HourlyRate: &Money{Amount: 1850, Currency: "EUR"}, Activities: []string{"chess"},
		},
	}
}

func benchJobDetails() JobDetails {
	return JobDetails{
		JobType: JobBabysitting, Description: "Two kids, one cat. Dinner at seven, bed at eight.", NumberOfKids: 2,
		StartDate: Date{2030, time.May, 1}, EndDate: Date{2030, time.May, 2},
		StartTime: 18*60 + 30, EndTime: 75,
		Address: "2 Main Street", City: "Berlin", Latitude: 52.5, Longitude: 13.4,
		Cost: Money{Amount: 4500, Currency: "EUR"},
	}
}

// BenchmarkValidate is the input validation of CreateUser and CreateJob,
// on valid input (the common case) and on input with several errors.
func BenchmarkValidate(b *testing.B) {
	today := Date{2026, time.November, 25}
	b.Run("NewUser", func(b *testing.B) {
		u := benchNewUser()
		b.ReportAllocs()
		for b.Loop() {
			email, err := u.validate(today)
			if err != nil {
				b.Fatal(err)
			}
			benchResult = email
		}
	})
	b.Run("NewUser/invalid", func(b *testing.B) {
		u := benchNewUser()
		u.Username, u.Email, u.PhoneNumber = "A", "nope", "123"
		b.ReportAllocs()
		for b.Loop() {
			_, err := u.validate(today)
			if err == nil {
				b.Fatal("valid")
			}
			benchResult = err
		}
	})
	b.Run("JobDetails", func(b *testing.B) {
		d := benchJobDetails()
		b.ReportAllocs()
		for b.Loop() {
			if err := d.validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JobDetails/invalid", func(b *testing.B) {
		d := benchJobDetails()
		d.NumberOfKids, d.Cost.Currency, d.EndDate = 0, "XXX", Date{2030, time.April, 1}
		b.ReportAllocs()
		for b.Loop() {
			err := d.validate()
			if err == nil {
				b.Fatal("valid")
			}
			benchResult = err
		}
	})
	b.Run("validIDs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := validIDs("jobId", "0190a1b2-0000-7000-8000-000000000002", "applicationId", "0190a1b2-0000-7000-8000-000000000003"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCursor encodes and decodes a list cursor (the key of a job in
// the byStatus index), as every paginated call does.
func BenchmarkCursor(b *testing.B) {
	key := map[string]string{
		"PK": "JOB#0190a1b2-0000-7000-8000-000000000002", "SK": "JOB#0190a1b2-0000-7000-8000-000000000002",
		"GSI2PK": "JOBSTATUS#OPEN", "GSI2SK": "JOB#0190a1b2-0000-7000-8000-000000000002",
	}
	const scope = "jobs:OPEN"
	c := EncodeCursor(scope, key)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchResult = EncodeCursor(scope, key)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := DecodeCursor(scope, c)
			if err != nil {
				b.Fatal(err)
			}
			benchResult = k
		}
	})
	b.Run("decode/foreign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := DecodeCursor("jobs:CLOSED", c)
			if err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkDeclineMessage builds a decline message (BookNanny, once per
// job) and parses it (Decliner.HandleBatch, once per message).
func BenchmarkDeclineMessage(b *testing.B) {
	const job = "0190a1b2-0000-7000-8000-000000000002"
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchResult = DeclineMessage(job)
		}
	})
	m := DeclineMessage(job)
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := parseDecline(m)
			if err != nil {
				b.Fatal(err)
			}
			benchResult = d
		}
	})
}
