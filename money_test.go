package babysitter

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/bojanz/currency"
	"github.com/google/go-cmp/cmp"
)

func TestMoneyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    Money
		want string
	}{
		{Money{6000, "EUR"}, "60.00 EUR"},
		{Money{6000, "JPY"}, "6000 JPY"},
		{Money{6000, "KWD"}, "6.000 KWD"},
		{Money{12345, "CLF"}, "1.2345 CLF"}, // four decimals
		{Money{100, "XCG"}, "1.00 XCG"},     // the Caribbean guilder, new in 2025
		{Money{5, "USD"}, "0.05 USD"},
		{Money{-5, "USD"}, "-0.05 USD"},
		{Money{-6000, "JPY"}, "-6000 JPY"},
		{Money{0, "EUR"}, "0.00 EUR"},
		{Money{0, "JPY"}, "0 JPY"},
		{Money{math.MaxInt64, "JPY"}, "9223372036854775807 JPY"},
		{Money{math.MinInt64, "EUR"}, "-92233720368547758.08 EUR"},
		{Money{math.MinInt64, "KWD"}, "-9223372036854775.808 KWD"},
		// Unknown currencies: no decimals to apply, so minor units as they are.
		{Money{6000, "ANG"}, `6000 "ANG" (unknown currency; amount in minor units)`}, // replaced by XCG
		{Money{6000, "eur"}, `6000 "eur" (unknown currency; amount in minor units)`},
		{Money{-1, ""}, `-1 "" (unknown currency; amount in minor units)`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestMoneyValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		m         Money
		allowZero bool
		want      []string // offending fields
	}{
		{"euros", Money{6000, "EUR"}, false, nil},
		{"yen", Money{6000, "JPY"}, false, nil},
		{"dinars", Money{6000, "KWD"}, false, nil},
		{"Caribbean guilder", Money{6000, "XCG"}, false, nil},
		{"Zimbabwe gold", Money{6000, "ZWG"}, false, nil},
		{"Netherlands Antillean guilder, withdrawn", Money{6000, "ANG"}, false, []string{"cost.currency"}},
		{"Croatian kuna, withdrawn", Money{6000, "HRK"}, false, []string{"cost.currency"}},
		{"lower case", Money{6000, "eur"}, false, []string{"cost.currency"}},
		{"no currency", Money{6000, ""}, false, []string{"cost.currency"}},
		{"not a code", Money{6000, "EURO"}, false, []string{"cost.currency"}},
		{"negative", Money{-1, "EUR"}, false, []string{"cost.amount"}},
		{"negative, bad currency", Money{-1, "XXXX"}, false, []string{"cost.amount", "cost.currency"}},
		{"zero", Money{0, "EUR"}, false, []string{"cost.amount"}},
		{"zero allowed", Money{0, "EUR"}, true, nil},
		// The bound is 100 million major units, whatever the decimals.
		{"largest euros", Money{100_000_000_00, "EUR"}, false, nil},
		{"too many euros", Money{100_000_000_01, "EUR"}, false, []string{"cost.amount"}},
		{"largest yen", Money{100_000_000, "JPY"}, false, nil},
		{"too many yen", Money{100_000_001, "JPY"}, false, []string{"cost.amount"}},
		{"largest dinars", Money{100_000_000_000, "KWD"}, false, nil},
		{"too many dinars", Money{100_000_000_001, "KWD"}, false, []string{"cost.amount"}},
		{"largest int64", Money{math.MaxInt64, "CLF"}, false, []string{"cost.amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe fieldErrors
			tt.m.validate(&fe, "cost", tt.allowZero)
			if d := cmp.Diff(tt.want, fields(t, fe.err())); d != "" {
				t.Errorf("%#v: offending fields (-want +got):\n%s", tt.m, d)
			}
		})
	}
}

// TestJobCostNamesTheField: a job's bad currency is reported as
// cost.currency, and a user's as hourlyRate.currency.
func TestJobCostNamesTheField(t *testing.T) {
	t.Parallel()
	j := validJob()
	j.Cost = Money{6000, "ANG"}
	if d := cmp.Diff([]string{"cost.currency"}, fields(t, j.validate())); d != "" {
		t.Errorf("job fields (-want +got):\n%s", d)
	}
	u := validNewUser()
	u.HourlyRate = &Money{1500, "KWD"}
	if _, err := u.validate(today); err != nil {
		t.Errorf("1.500 KWD an hour: %v", err)
	}
	u.HourlyRate = &Money{1500, "XTS"} // reserved for testing, not a currency
	_, err := u.validate(today)
	if d := cmp.Diff([]string{"hourlyRate.currency"}, fields(t, err)); d != "" {
		t.Errorf("user fields (-want +got):\n%s", d)
	}
}

// TestEveryListedCurrencyIsValid: the valid codes are exactly the
// currency package's list, with decimals a Money can print.
func TestEveryListedCurrencyIsValid(t *testing.T) {
	t.Parallel()
	codes := currency.GetCurrencyCodes()
	if len(codes) < 150 {
		t.Fatalf("only %d currency codes listed", len(codes))
	}
	for _, c := range codes {
		d, ok := currencyDigits(c)
		if !ok {
			t.Errorf("%s is listed but not valid", c)
			continue
		}
		if d > 4 {
			t.Errorf("%s has %d decimals; ISO 4217 has at most 4", c, d)
		}
	}
}

// FuzzMoney checks String and validate on any amount and code: String never
// panics; for a known currency it prints exactly the currency's decimals
// and reads back to the same minor units; validate reports only
// cost.amount and cost.currency, each exactly when its rule is broken.
func FuzzMoney(f *testing.F) {
	f.Add(int64(6000), "JPY")
	f.Add(int64(6000), "KWD")
	f.Add(int64(-1), "EUR")
	f.Add(int64(math.MinInt64), "EUR")
	f.Add(int64(math.MaxInt64), "CLF")
	f.Add(int64(1), "ANG")
	f.Add(int64(0), "")
	f.Add(int64(100_000_000_001), "KWD")
	f.Fuzz(func(t *testing.T, amount int64, code string) {
		m := Money{Amount: amount, Currency: code}
		s := m.String()
		digits, known := currencyDigits(code)
		if known != isCurrency(code) {
			t.Fatalf("currencyDigits and isCurrency disagree on %q", code)
		}
		if known {
			if got, err := parseMoney(s, code, digits); err != "" {
				t.Fatalf("%#v.String() = %q: %s", m, s, err)
			} else if got != amount {
				t.Fatalf("%#v.String() = %q reads back as %d", m, s, got)
			}
		} else if !strings.HasPrefix(s, strconv.FormatInt(amount, 10)+" "+strconv.Quote(code)+" ") {
			t.Fatalf("%#v.String() = %q for an unknown currency", m, s)
		}

		var fe fieldErrors
		m.validate(&fe, "cost", false)
		bad := map[string]bool{}
		for _, e := range fe {
			if e.Field != "cost.amount" && e.Field != "cost.currency" {
				t.Fatalf("%#v: unexpected field %q", m, e.Field)
			}
			bad[e.Field] = true
		}
		if bad["cost.currency"] == known {
			t.Errorf("%#v: currency error %v, known currency %v", m, bad["cost.currency"], known)
		}
		tooLarge := known && amount > 0 && uint64(amount) > maxMajorUnits*pow10(digits)
		if want := amount <= 0 || tooLarge; bad["cost.amount"] != want {
			t.Errorf("%#v: amount error %v, want %v", m, bad["cost.amount"], want)
		}
	})
}

// parseMoney reads back what String printed for a known currency: a sign,
// the major units, exactly digits decimals after a point (none when digits
// is 0), a space and the code. It returns the amount in minor units, or a
// description of what is wrong.
func parseMoney(s, code string, digits int) (int64, string) {
	num, ok := strings.CutSuffix(s, " "+code)
	if !ok {
		return 0, "no code at the end"
	}
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	major, minor, hasPoint := strings.Cut(num, ".")
	if hasPoint != (digits > 0) || len(minor) != digits {
		return 0, "wrong number of decimals, want " + strconv.Itoa(digits)
	}
	u, err := strconv.ParseUint(major+minor, 10, 64)
	if err != nil || strings.ContainsAny(major+minor, "+-") || major == "" || (len(major) > 1 && major[0] == '0') {
		return 0, "not a number"
	}
	if neg {
		if u == 0 || u > 1<<63 {
			return 0, "bad negative"
		}
		return int64(-u), ""
	}
	if u > math.MaxInt64 {
		return 0, "out of range"
	}
	return int64(u), ""
}
