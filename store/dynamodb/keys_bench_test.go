package dynamodb

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// Micro-benchmarks of the code on every request's path: key building,
// marshalling items, decoding them, building a transaction and a page's
// Query and cursor. Run with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./store/dynamodb/ | benchstat -
//
// (see BENCHMARKS.md).

var benchSink any

func benchUserValue() babysitter.User {
	t := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	lat, lon, no := 52.520008, 13.404954, false
	return babysitter.User{
		ID: "0190a1b2-0000-7000-8000-000000000001", Username: "ada.lovelace", Email: "ada@example.com",
		Type: babysitter.UserNanny, Status: babysitter.StatusVerified,
		Profile: babysitter.Profile{
			FirstName: "Ada", LastName: "Lovelace", DateOfBirth: babysitter.Date{Year: 1990, Month: 12, Day: 10},
			Gender: "female", Address: "1 Way", About: "Likes engines.",
			Latitude: &lat, Longitude: &lon, PhoneNumber: "+4915112345678",
			SpokenLanguages: []string{"en", "de"}, Nationality: "British", RegionOfOrigin: "London",
			HourlyRate: &babysitter.Money{Amount: 1850, Currency: "EUR"}, EducationLevel: "MSc",
			Smokes: &no, Drinks: &no, Activities: []string{"chess", "piano"},
		},
		ProfilePicURL: "https://img.example.com/a.png",
		Rating:        babysitter.Rating{Count: 3, Sum: 13},
		CreatedOn:     t, UpdatedOn: t, Version: 7,
	}
}

func benchJobValue() babysitter.Job {
	t := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return babysitter.Job{
		ID: "0190a1b2-0000-7000-8000-000000000002", ParentUsername: "grace.hopper",
		JobDetails: babysitter.JobDetails{
			JobType: babysitter.JobBabysitting, Description: "Two kids, one cat. Dinner at seven, bed at eight.",
			NumberOfKids: 2, StartDate: babysitter.Date{Year: 2030, Month: 5, Day: 1}, EndDate: babysitter.Date{Year: 2030, Month: 5, Day: 2},
			StartTime: 18*60 + 30, EndTime: 75, Address: "2 Main Street", City: "Berlin", Latitude: 52.5, Longitude: 13.4,
			Cost: babysitter.Money{Amount: 4500, Currency: "EUR"},
		},
		Status: babysitter.JobOpen, CreatedOn: t, UpdatedOn: t, Version: 1,
	}
}

func benchApplicationValue() babysitter.Application {
	t := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return babysitter.Application{
		ID: "0190a1b2-0000-7000-8000-000000000003", JobID: "0190a1b2-0000-7000-8000-000000000002",
		NannyUsername: "ada.lovelace", Message: "Happy to help.", Status: babysitter.ApplicationPending,
		CreatedOn: t, UpdatedOn: t,
	}
}

// BenchmarkKeys builds the keys one request needs: an item key, and every
// key attribute of a job and of an application.
func BenchmarkKeys(b *testing.B) {
	b.Run("userItemKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = userItemKey("ada.lovelace")
		}
	})
	b.Run("applicationItemKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = applicationItemKey("0190a1b2-0000-7000-8000-000000000002", "0190a1b2-0000-7000-8000-000000000003")
		}
	})
	b.Run("jobKeys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = jobKeys("0190a1b2-0000-7000-8000-000000000002", "grace.hopper", babysitter.JobOpen)
		}
	})
	b.Run("geoKeys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = geoKeys("0190a1b2-0000-7000-8000-000000000002", 52.5, 13.4)
		}
	})
}

// BenchmarkMarshal encodes each entity as the item a Put writes.
func BenchmarkMarshal(b *testing.B) {
	u, j, a := benchUserValue(), benchJobValue(), benchApplicationValue()
	b.Run("user", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			item, err := encodeUser(u)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = item
		}
	})
	b.Run("job", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			item, err := encodeJob(j)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = item
		}
	})
	b.Run("application", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			item, err := encodeApplication(a)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = item
		}
	})
}

// BenchmarkUnmarshal decodes each entity from its item, as every read does.
func BenchmarkUnmarshal(b *testing.B) {
	ui, err := encodeUser(benchUserValue())
	if err != nil {
		b.Fatal(err)
	}
	ji, err := encodeJob(benchJobValue())
	if err != nil {
		b.Fatal(err)
	}
	ai, err := encodeApplication(benchApplicationValue())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("user", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u, err := decodeUser(ui)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = u
		}
	})
	b.Run("job", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, err := decodeJob(ji)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = j
		}
	})
	b.Run("application", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := decodeApplication(ai)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = a
		}
	})
}

// BenchmarkBookItems builds BookNanny's transaction (3 Updates and a
// ConditionCheck with their expressions).
func BenchmarkBookItems(b *testing.B) {
	j, a := benchJobValue(), benchApplicationValue()
	r := babysitter.BookRequest{
		Guard:          babysitter.Guard{Actor: babysitter.Actor{Username: j.ParentUsername, Role: babysitter.RoleParent}, Allow: []babysitter.AccountStatus{babysitter.StatusVerified}},
		ApplicationRef: babysitter.ApplicationRef{JobID: j.ID, ApplicationID: a.ID},
		Applicant:      []babysitter.AccountStatus{babysitter.StatusVerified},
		At:             time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
	}
	b.ReportAllocs()
	for b.Loop() {
		benchSink = bookTxn("table", r, j, a)
	}
}

// BenchmarkListPage is a list page's own work around the Query: building
// the QueryInput from a cursor, and the next cursor from the last item.
func BenchmarkListPage(b *testing.B) {
	l := list{
		scope: "jobs:OPEN", index: IndexByStatus, pkAttr: attrGSI2PK, skAttr: attrGSI2SK,
		pk: jobStatusKey(babysitter.JobOpen), lo: prefixJob, prefix: prefixJob,
		valid: func(k map[string]string) bool { return k[attrPK] == k[attrSK] && k[attrPK] == k[attrGSI2SK] },
	}
	item, err := encodeJob(benchJobValue())
	if err != nil {
		b.Fatal(err)
	}
	cursor := l.cursor(item)
	b.Run("query from cursor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			start, err := l.start(cursor)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = l.query("table", start, 26)
		}
	})
	b.Run("cursor from item", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchSink = l.cursor(item)
		}
	})
	items := make([]map[string]types.AttributeValue, 26)
	for i := range items {
		items[i] = item
	}
	b.Run("decode page of 25", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := pageOf(l, items, false, 25, decodeJob)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = p
		}
	})
}
