package babysitter

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var today = Date{Year: 2026, Month: time.November, Day: 25}

func validNewUser() NewUser {
	return NewUser{
		Username: "alice",
		Email:    "Alice@Example.com",
		Type:     UserParent,
		Profile: Profile{
			FirstName:   "Alice",
			LastName:    "Smith",
			DateOfBirth: Date{1990, time.April, 1},
		},
	}
}

func validJob() JobDetails {
	return JobDetails{
		JobType: JobBabysitting, NumberOfKids: 2,
		StartDate: Date{2030, time.May, 1}, EndDate: Date{2030, time.May, 1},
		StartTime: 8 * 60, EndTime: 18 * 60,
		Address: "1 Main St", City: "Berlin", Latitude: 52.5, Longitude: 13.4,
		Cost: Money{Amount: 5000, Currency: "EUR"},
	}
}

// fields returns the offending field names of an InvalidInputError.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ie *InvalidInputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("want an InvalidInputError, got %T %v", err, err)
	}
	var names []string
	for _, f := range ie.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestNewUserValidation(t *testing.T) {
	t.Parallel()
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		name   string
		modify func(*NewUser)
		want   []string
	}{
		{"valid", func(*NewUser) {}, nil},
		{"key delimiter in username", func(u *NewUser) { u.Username = "ali#ce" }, []string{"username"}},
		{"upper case username", func(u *NewUser) { u.Username = "Alice" }, []string{"username"}},
		{"short username", func(u *NewUser) { u.Username = "al" }, []string{"username"}},
		{"long username", func(u *NewUser) { u.Username = strings.Repeat("a", 33) }, []string{"username"}},
		{"bad email", func(u *NewUser) { u.Email = "not an email" }, []string{"email"}},
		{"display name email", func(u *NewUser) { u.Email = "Alice <a@example.com>" }, []string{"email"}},
		{"admin type", func(u *NewUser) { u.Type = UserAdmin }, []string{"type"}},
		{"minor", func(u *NewUser) { u.DateOfBirth = Date{2015, time.January, 1} }, []string{"dateOfBirth"}},
		{"latitude out of range", func(u *NewUser) { u.Latitude, u.Longitude = f(91), f(0) }, []string{"latitude"}},
		{"lonely longitude", func(u *NewUser) { u.Longitude = f(10) }, []string{"latitude"}},
		{"bad phone", func(u *NewUser) { u.PhoneNumber = "0151 123" }, []string{"phoneNumber"}},
		{"float-ish money", func(u *NewUser) { u.HourlyRate = &Money{Amount: 1500, Currency: "eur"} }, []string{"hourlyRate.currency"}},
		{"every field at once", func(u *NewUser) {
			*u = NewUser{Username: "#", Email: "x", Type: "BOSS", Profile: Profile{About: strings.Repeat("x", 2001)}}
		}, []string{"username", "email", "type", "firstName", "lastName", "dateOfBirth", "about"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := validNewUser()
			tt.modify(&u)
			email, err := u.validate(today)
			if diff := cmp.Diff(tt.want, fields(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if err == nil && email != strings.ToLower(u.Email) {
				t.Errorf("normalized email = %q", email)
			}
		})
	}
}

func TestJobValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*JobDetails)
		want   []string
	}{
		{"valid", func(*JobDetails) {}, nil},
		{"overnight is fine", func(j *JobDetails) { j.EndDate = Date{2030, time.May, 2}; j.StartTime, j.EndTime = 20*60, 2*60 }, nil},
		{"ends before it starts", func(j *JobDetails) { j.StartTime, j.EndTime = 18*60, 8*60 }, []string{"endDate"}},
		{"end date before start date", func(j *JobDetails) { j.EndDate = Date{2030, time.April, 30} }, []string{"endDate"}},
		{"unknown type", func(j *JobDetails) { j.JobType = "GARDENING" }, []string{"jobType"}},
		{"babysitting without kids", func(j *JobDetails) { j.NumberOfKids = 0 }, []string{"numberOfKids"}},
		{"cleaning without kids", func(j *JobDetails) { j.JobType, j.NumberOfKids = JobCleaning, 0 }, nil},
		{"zero cost", func(j *JobDetails) { j.Cost.Amount = 0 }, []string{"cost.amount"}},
		{"negative cost and bad currency", func(j *JobDetails) { j.Cost = Money{-1, "EURO"} }, []string{"cost.amount", "cost.currency"}},
		{"the tutorial's swapped coordinates", func(j *JobDetails) { j.Latitude, j.Longitude = 13.4, 152.5 }, nil},
		{"coordinates out of range", func(j *JobDetails) { j.Latitude, j.Longitude = -91, 181 }, []string{"latitude", "longitude"}},
		{"missing everything", func(j *JobDetails) { *j = JobDetails{} }, []string{"jobType", "startDate", "endDate", "address", "city", "cost.amount", "cost.currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob()
			tt.modify(&j)
			if diff := cmp.Diff(tt.want, fields(t, j.validate())); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	key := map[string]string{"PK": "JOB#1", "SK": "APPLICATION#2"}
	c := EncodeCursor("job-apps:1", key)
	got, err := DecodeCursor("job-apps:1", c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(key, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"", "!!!", c + "x", c[:len(c)-2],
		EncodeCursor("job-apps:2", key), // another partition's cursor
		EncodeCursor("job-apps:1", nil),
	} {
		if _, err := DecodeCursor("job-apps:1", bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalidInput", bad, err)
		}
	}
}

func TestPageRequestNormalize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      int
		want    int
		invalid bool
	}{{0, DefaultLimit, false}, {1, 1, false}, {100, 100, false}, {101, 0, true}, {-1, 0, true}} {
		p, err := PageRequest{Limit: tt.in}.normalize()
		if tt.invalid != errors.Is(err, ErrInvalidInput) || (!tt.invalid && p.Limit != tt.want) {
			t.Errorf("normalize(%d) = %d, %v", tt.in, p.Limit, err)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	cause := errors.New("sdk says no")
	err := opErr("BookNanny", &Error{Kind: ErrConflict, Msg: "job is CLOSED", Err: cause})
	if !errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || !errors.Is(err, cause) {
		t.Errorf("kinds of %v wrong", err)
	}
	ae := opErr("CreateUser", &AlreadyExistsError{Field: FieldEmail, Value: "a@b.c"})
	var target *AlreadyExistsError
	if !errors.Is(ae, ErrAlreadyExists) || !errors.As(ae, &target) || target.Field != FieldEmail {
		t.Errorf("AlreadyExistsError does not match: %v", ae)
	}
	if e := Errorf(ErrNotFound, "job %s: %w", "x", cause); !errors.Is(e, ErrNotFound) || !errors.Is(e, cause) {
		t.Errorf("Errorf lost a kind: %v", e)
	}
}

var usernameRE = regexp.MustCompile(`^[a-z0-9_.-]{3,32}$`)

func FuzzValidUsername(f *testing.F) {
	for _, s := range []string{"alice", "a#b", "ab", "USER#x", "ünï", strings.Repeat("z", 33), "a.b-c_d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidUsername(s), usernameRE.MatchString(s); got != want {
			t.Errorf("ValidUsername(%q) = %v, want %v", s, got, want)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@b.c", "A@B.CO", "x", "<a@b.c>", "a@b", " a@b.c", "\"q\"@b.c", "a@b.c\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeEmail(s)
		if !ok {
			return
		}
		if got != strings.ToLower(s) || !strings.Contains(got, "@") || len(got) > 254 {
			t.Errorf("NormalizeEmail(%q) = %q", s, got)
		}
		if again, ok := NormalizeEmail(got); !ok || again != got {
			t.Errorf("not idempotent: %q → %q → %q, %v", s, got, again, ok)
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("users:NANNY", EncodeCursor("users:NANNY", map[string]string{"PK": "USER#a"}))
	f.Add("users:NANNY", EncodeCursor("users:PARENT", map[string]string{"PK": "USER#a"}))
	f.Add("x", "eyJ2IjoxfQ")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, scope, s string) {
		key, err := DecodeCursor(scope, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		if len(key) == 0 {
			t.Fatal("accepted an empty key")
		}
		back, err := DecodeCursor(scope, EncodeCursor(scope, key))
		if err != nil || !cmp.Equal(back, key) {
			t.Fatalf("re-encoded cursor does not round-trip: %v %v", back, err)
		}
	})
}

// FuzzValidateInputs feeds arbitrary JSON to the user and job validators:
// they must never panic, and whatever they accept must satisfy the rules
// the stores rely on (a key-safe username, a normalized email, a job that
// ends after it starts, money in range).
func FuzzValidateInputs(f *testing.F) {
	seed := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	f.Add(seed(validNewUser()), seed(validJob()))
	f.Add(`{"username":"a#b","email":"x"}`, `{"startDate":"2030-02-30","cost":{"amount":-1}}`)
	f.Add(`{"latitude":1e400}`, `{"latitude":"NaN","startTime":"25:00"}`)
	f.Fuzz(func(t *testing.T, userJSON, jobJSON string) {
		var u NewUser
		if json.Unmarshal([]byte(userJSON), &u) == nil {
			if email, err := u.validate(today); err == nil {
				if !ValidUsername(u.Username) || email == "" || strings.ToLower(email) != email {
					t.Errorf("accepted %+v", u)
				}
			} else if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("wrong error kind: %v", err)
			}
		}
		var j JobDetails
		if json.Unmarshal([]byte(jobJSON), &j) == nil {
			if err := j.validate(); err == nil {
				start := j.StartDate.Time().Add(time.Duration(j.StartTime) * time.Minute)
				end := j.EndDate.Time().Add(time.Duration(j.EndTime) * time.Minute)
				if !start.Before(end) || j.Cost.Amount <= 0 || !isCurrency(j.Cost.Currency) {
					t.Errorf("accepted %+v", j)
				}
			} else if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("wrong error kind: %v", err)
			}
		}
	})
}
