package babysitter

import (
	"fmt"
	"math"
	"time"
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

// Money is an amount in the currency's minor units (cents for EUR), never a
// float, with its ISO 4217 code.
type Money struct {
	Amount   int64  `json:"amount" dynamodbav:"amount"`
	Currency string `json:"currency" dynamodbav:"currency"`
}

// String formats the amount with its minor units, e.g. "50.00 EUR".
func (m Money) String() string {
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.Currency)
}

// validate reports the money's problems under field.
func (m Money) validate(fe *fieldErrors, field string, allowZero bool) {
	switch {
	case m.Amount < 0:
		fe.add(field+".amount", "must not be negative")
	case m.Amount == 0 && !allowZero:
		fe.add(field+".amount", "must be greater than zero (minor units, e.g. cents)")
	case m.Amount > 100_000_000_00:
		fe.add(field+".amount", "is too large")
	}
	if !isCurrency(m.Currency) {
		fe.add(field+".currency", "must be an ISO 4217 code such as EUR or USD, got %q", m.Currency)
	}
}

// currencies are the active ISO 4217 codes.
const currencies = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
	"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD " +
	"HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD " +
	"MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG " +
	"QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD " +
	"TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG"

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i+3 <= len(currencies); i += 4 {
		if currencies[i:i+3] == c {
			return true
		}
	}
	return false
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
