package babysitter

import (
	"fmt"
	"math"
	"time"

	"github.com/bojanz/currency"
)

// Date is a calendar date without a time zone, encoded as "2006-01-02".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD" and rejects impossible dates such as 2023-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("want a date as YYYY-MM-DD, got %q", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date (unset).
func (d Date) IsZero() bool { return d == Date{} }

// String returns "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// YearsSince returns the whole years from d to on (an age when d is a birth date).
func (d Date) YearsSince(on Date) int {
	years := on.Year - d.Year
	if on.Month < d.Month || (on.Month == d.Month && on.Day < d.Day) {
		years--
	}
	return years
}

// TimeOfDay is a wall-clock time as minutes after midnight, encoded "15:04".
type TimeOfDay int

// ParseTimeOfDay parses "HH:MM" (24-hour).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("want a time as HH:MM, got %q", s)
	}
	return TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

// String returns "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// MarshalText implements encoding.TextMarshaler.
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Money is an amount in its currency's minor units, never a float, with its
// ISO 4217 code. How many decimals a minor unit is depends on the currency
// (ISO 4217's "minor unit"): Money{6000, "EUR"} is 60.00 euros, Money{6000,
// "JPY"} is 6000 yen (no decimals), Money{6000, "KWD"} is 6.000 dinars
// (three). The stored and JSON shape is {amount, currency} whatever the
// currency.
//
// The valid codes and their decimals are not kept by hand: they come from
// github.com/bojanz/currency, generated from ISO 4217's list of active codes
// (and CLDR); a code the embedding program adds with currency.Register is
// valid too.
type Money struct {
	Amount   int64  `json:"amount" dynamodbav:"amount"`
	Currency string `json:"currency" dynamodbav:"currency"`
}

// String formats the amount in major units with exactly its currency's
// decimals, then the code: "60.00 EUR", "6000 JPY", "6.000 KWD",
// "-0.05 USD". An unknown currency has no known decimals, so its amount is
// printed as it is, in minor units, with the code quoted:
// `6000 "ABC" (unknown currency; amount in minor units)`.
func (m Money) String() string {
	digits, ok := currencyDigits(m.Currency)
	if !ok {
		return fmt.Sprintf("%d %q (unknown currency; amount in minor units)", m.Amount, m.Currency)
	}
	sign, a := "", uint64(m.Amount)
	if m.Amount < 0 {
		sign, a = "-", -a // in uint64, so that math.MinInt64 negates too
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, a, m.Currency)
	}
	unit := pow10(digits)
	return fmt.Sprintf("%s%d.%0*d %s", sign, a/unit, digits, a%unit, m.Currency)
}

// maxMajorUnits bounds an amount: 100 million of the currency's major unit
// (euros, yen, dinars), whatever its decimals. It guards against an amount
// typed in the wrong unit, not a business limit.
const maxMajorUnits = 100_000_000

// validate reports the money's problems under field ("cost" gives
// "cost.amount" and "cost.currency").
func (m Money) validate(fe *fieldErrors, field string, allowZero bool) {
	digits, known := currencyDigits(m.Currency)
	switch {
	case m.Amount < 0:
		fe.add(field+".amount", "must not be negative")
	case m.Amount == 0 && !allowZero:
		fe.add(field+".amount", "must be greater than zero (in minor units: cents for EUR, yen for JPY)")
	case known && uint64(m.Amount) > maxMajorUnits*pow10(digits):
		fe.add(field+".amount", "is too large: at most %d %s, %d in minor units", maxMajorUnits, m.Currency, maxMajorUnits*pow10(digits))
	}
	if !known {
		fe.add(field+".currency", "must be an ISO 4217 code such as EUR or USD, got %q", m.Currency)
	}
}

// maxDigits is the most decimals a currency may have here. ISO 4217 has at
// most 4 (CLF, UYW); the bound keeps a registered currency's pow10 and
// maxMajorUnits*pow10 within uint64 and int64.
const maxDigits = 9

// currencyDigits returns the number of decimals of an ISO 4217 code (2 for
// EUR, 0 for JPY, 3 for KWD) and whether the code is a known currency. The
// code must be exact: "eur" is not EUR.
func currencyDigits(code string) (int, bool) {
	if code == "" { // currency.IsValid treats "" as valid ("no currency")
		return 0, false
	}
	d, ok := currency.GetDigits(code)
	if !ok || d > maxDigits {
		return 0, false
	}
	return int(d), true
}

// isCurrency reports whether code is a known currency code.
func isCurrency(code string) bool {
	_, ok := currencyDigits(code)
	return ok
}

// pow10 returns 10**n for 0 <= n <= maxDigits.
func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// validateCoordinates reports out-of-range or non-finite coordinates.
func validateCoordinates(fe *fieldErrors, lat, lon float64) {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		fe.add("latitude", "must be between -90 and 90")
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		fe.add("longitude", "must be between -180 and 180")
	}
}
