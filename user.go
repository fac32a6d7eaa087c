package babysitter

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UserType says which side of the marketplace an account is on.
type UserType string

// The account types. ADMIN accounts are provisioned, never self-created.
const (
	UserParent UserType = "PARENT"
	UserNanny  UserType = "NANNY"
	UserAdmin  UserType = "ADMIN"
)

// AccountStatus is set by admins only.
type AccountStatus string

// The account statuses; UNVERIFIED is the default at creation.
const (
	StatusUnverified  AccountStatus = "UNVERIFIED"
	StatusVerified    AccountStatus = "VERIFIED"
	StatusDeactivated AccountStatus = "DEACTIVATED"
)

// Valid reports whether s is one of the defined statuses.
func (s AccountStatus) Valid() bool {
	return s == StatusUnverified || s == StatusVerified || s == StatusDeactivated
}

// Profile holds the fields a user edits about themselves. The nanny extras
// are accepted on any account but only shown for nannies by the examples.
// The profile picture is not among them: it is an upload (RequestUpload,
// ConfirmUpload), and User.ProfilePicURL is set from it, never from text.
type Profile struct {
	FirstName   string   `json:"firstName"`
	LastName    string   `json:"lastName"`
	DateOfBirth Date     `json:"dateOfBirth,omitzero"`
	Gender      string   `json:"gender,omitempty"`
	Address     string   `json:"address,omitempty"`
	About       string   `json:"about,omitempty"`
	Latitude    *float64 `json:"latitude,omitempty"`
	Longitude   *float64 `json:"longitude,omitempty"`
	PhoneNumber string   `json:"phoneNumber,omitempty"`

	SpokenLanguages []string `json:"spokenLanguages,omitempty"`
	Nationality     string   `json:"nationality,omitempty"`
	RegionOfOrigin  string   `json:"regionOfOrigin,omitempty"`
	HourlyRate      *Money   `json:"hourlyRate,omitempty"`
	EducationLevel  string   `json:"educationLevel,omitempty"`
	Smokes          *bool    `json:"smokes,omitempty"`
	Drinks          *bool    `json:"drinks,omitempty"`
	Disabilities    string   `json:"disabilities,omitempty"`
	Activities      []string `json:"activities,omitempty"`
}

// Rating is a user's review aggregate. Sum is kept rather than the average
// so that adding a review is an exact integer update.
type Rating struct {
	Count int64 `json:"count"`
	Sum   int64 `json:"sum"`
}

// Average is Sum/Count, or 0 without reviews.
func (r Rating) Average() float64 {
	if r.Count == 0 {
		return 0
	}
	return float64(r.Sum) / float64(r.Count)
}

// User is an account. Age is derived from DateOfBirth, never stored.
type User struct {
	ID       string        `json:"id"`
	Username string        `json:"username"`
	Email    string        `json:"email,omitempty"`
	Type     UserType      `json:"type"`
	Status   AccountStatus `json:"status"`
	Profile
	// ProfilePicURL is the public URL of the profile picture, set by
	// ConfirmUpload from the uploaded object's key (Options.PublicBaseURL
	// followed by the key), never from free text.
	ProfilePicURL string    `json:"profilePicUrl,omitempty"`
	Rating        Rating    `json:"rating"`
	CreatedOn     time.Time `json:"createdOn"`
	UpdatedOn     time.Time `json:"updatedOn"`
	// Documents are the identity documents the user uploaded (confirmed),
	// oldest first. Private: the user and admins see them.
	Documents []Upload `json:"documents,omitempty"`
	// Verification records the admin decision that made the account
	// VERIFIED; nil in any other status. Private, as Documents.
	Verification *Verification `json:"verification,omitempty"`
	// Uploads is the bookkeeping of the account's other objects (requested
	// uploads, the picture, objects awaiting deletion): the Service's and
	// the Stores', not the API's.
	Uploads UserUploads `json:"-"`
	// Version increments on every change; stores use it for optimistic
	// concurrency on read-modify-write updates. It is not part of the API's
	// JSON: no operation takes it.
	Version int64 `json:"-"`
	// Subject is the Actor.Subject of the identity that created the
	// account, which alone acts through it (Guard.Check) and owns it.
	// Empty: bound to no subject. Not part of the API's JSON: it is the
	// identity provider's ID, no use to anyone else.
	Subject string `json:"-"`
}

// Age returns the user's age in whole years on the given day, or 0 when the
// date of birth is not visible.
func (u User) Age(on time.Time) int {
	if u.DateOfBirth.IsZero() {
		return 0
	}
	return u.DateOfBirth.YearsSince(DateOf(on))
}

// public returns the profile that anyone may see: contact details, birth
// date, home location, disabilities (health data), identity documents and
// the verification record are for the user and admins only, and a PARENT
// account shows none of the nanny extras.
func (u User) public() User {
	u.Documents, u.Verification, u.Uploads = nil, nil, UserUploads{}
	u.Email = ""
	u.PhoneNumber = ""
	u.DateOfBirth = Date{}
	u.Address = ""
	u.Latitude, u.Longitude = nil, nil
	u.Disabilities = ""
	if u.Type != UserNanny {
		u.SpokenLanguages, u.Nationality, u.RegionOfOrigin, u.HourlyRate = nil, "", "", nil
		u.EducationLevel, u.Smokes, u.Drinks, u.Activities = "", nil, nil, nil
	}
	return u
}

// ownedBy reports whether a acts as the owner of account u: an identity of
// u's username whose role acts through u's type. An identity without a
// role (a sign-up not yet in a group) or with another role is not the
// owner, whatever its username: it sees the public profile.
func (u User) ownedBy(a Actor) bool {
	return !a.Anonymous() && a.Username == u.Username && roleAccount(a.Role) == u.Type && u.boundTo(a)
}

// boundTo reports whether a is the identity account u was created by: the
// same Subject, or u is bound to none (an account created by an actor
// without one, or before accounts were bound).
func (u User) boundTo(a Actor) bool { return u.Subject == "" || u.Subject == a.Subject }

// NewUser is the input of CreateUser.
type NewUser struct {
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Type     UserType `json:"type"`
	Profile
}

// UserPatch is the input of UpdateUser: nil fields stay as they are. A
// non-nil slice replaces the list (an empty one clears it).
type UserPatch struct {
	Email           *string   `json:"email,omitempty"`
	FirstName       *string   `json:"firstName,omitempty"`
	LastName        *string   `json:"lastName,omitempty"`
	DateOfBirth     *Date     `json:"dateOfBirth,omitempty"`
	Gender          *string   `json:"gender,omitempty"`
	Address         *string   `json:"address,omitempty"`
	About           *string   `json:"about,omitempty"`
	Latitude        *float64  `json:"latitude,omitempty"`
	Longitude       *float64  `json:"longitude,omitempty"`
	PhoneNumber     *string   `json:"phoneNumber,omitempty"`
	SpokenLanguages *[]string `json:"spokenLanguages,omitempty"`
	Nationality     *string   `json:"nationality,omitempty"`
	RegionOfOrigin  *string   `json:"regionOfOrigin,omitempty"`
	HourlyRate      *Money    `json:"hourlyRate,omitempty"`
	EducationLevel  *string   `json:"educationLevel,omitempty"`
	Smokes          *bool     `json:"smokes,omitempty"`
	Drinks          *bool     `json:"drinks,omitempty"`
	Disabilities    *string   `json:"disabilities,omitempty"`
	Activities      *[]string `json:"activities,omitempty"`
}

// apply copies the set fields of p onto u.
func (p UserPatch) apply(u *User) {
	set(&u.Email, p.Email)
	set(&u.FirstName, p.FirstName)
	set(&u.LastName, p.LastName)
	set(&u.DateOfBirth, p.DateOfBirth)
	set(&u.Gender, p.Gender)
	set(&u.Address, p.Address)
	set(&u.About, p.About)
	if p.Latitude != nil {
		u.Latitude = p.Latitude
	}
	if p.Longitude != nil {
		u.Longitude = p.Longitude
	}
	set(&u.PhoneNumber, p.PhoneNumber)
	set(&u.SpokenLanguages, p.SpokenLanguages)
	set(&u.Nationality, p.Nationality)
	set(&u.RegionOfOrigin, p.RegionOfOrigin)
	if p.HourlyRate != nil {
		u.HourlyRate = p.HourlyRate
	}
	set(&u.EducationLevel, p.EducationLevel)
	if p.Smokes != nil {
		u.Smokes = p.Smokes
	}
	if p.Drinks != nil {
		u.Drinks = p.Drinks
	}
	set(&u.Disabilities, p.Disabilities)
	set(&u.Activities, p.Activities)
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// ValidUsername reports whether s is 3–32 characters of [a-z0-9_.-]: no
// upper case (so names are unique without folding) and no key delimiter
// such as '#'.
func ValidUsername(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// NormalizeEmail returns the canonical (lower-case) form of a valid email
// address, the form uniqueness is checked on; ok is false when s is not a
// plain ASCII address ("a@b.example", no display name, at most 254
// bytes). Non-ASCII addresses are refused: Unicode case folding would map
// some of them onto another, ASCII, address ("\u212Aate@…" onto
// "kate@…"), reserving an address nobody typed.
func NormalizeEmail(s string) (string, bool) {
	if len(s) > 254 || strings.TrimSpace(s) != s {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

// multiLine is the length from which a text is prose (about, description,
// messages, reviews) and may hold line breaks and tabs.
const multiLine = 500

// checkText reports a text that is required but empty, too long, not
// UTF-8, or holding a character that makes it display as something else
// than it is (see hiddenRune). Texts of at least multiLine characters may
// hold line breaks and tabs; shorter ones (names, places) may not.
func checkText(fe *fieldErrors, field, s string, required bool, max int) {
	switch {
	case !utf8.ValidString(s):
		fe.add(field, "must be valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		fe.add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		fe.add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, func(r rune) bool { return hiddenRune(r, max >= multiLine) }):
		fe.add(field, "must not contain control characters, direction overrides or invisible spaces")
	}
}

// hiddenRune reports the characters no text of a user may hold: control
// characters (NUL, escapes; line breaks and tabs allowed in prose), the
// bidirectional overrides and isolates that make "Ann\u202Efdp.exe" read
// "Annexe.pdf", and the invisible spaces that make two different names
// look alike. Joiners (U+200C, U+200D) stay allowed: scripts such as
// Persian and emoji sequences need them.
func hiddenRune(r rune, prose bool) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return !prose
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true // bidi embeddings, overrides, isolates and marks
	case r == 0x200B, r == 0x2060, r == 0xFEFF, r == 0x180E:
		return true // zero-width space, word joiner, BOM, Mongolian vowel separator
	}
	return false
}

func checkList(fe *fieldErrors, field string, xs []string, maxItems, maxLen int) {
	if len(xs) > maxItems {
		fe.add(field, "must have at most %d items", maxItems)
		return
	}
	for _, x := range xs {
		if strings.TrimSpace(x) == "" || utf8.RuneCountInString(x) > maxLen || !utf8.ValidString(x) {
			fe.add(field, "items must be non-empty and at most %d characters", maxLen)
			return
		}
	}
}

// validate reports every problem of a profile. today bounds the birth date.
func (p Profile) validate(fe *fieldErrors, today Date) {
	checkText(fe, "firstName", p.FirstName, true, 100)
	checkText(fe, "lastName", p.LastName, true, 100)
	switch {
	case p.DateOfBirth.IsZero():
		fe.add("dateOfBirth", "is required")
	case p.DateOfBirth.YearsSince(today) < 18:
		fe.add("dateOfBirth", "users must be at least 18 years old")
	case p.DateOfBirth.YearsSince(today) > 120:
		fe.add("dateOfBirth", "must be within the last 120 years")
	}
	checkText(fe, "gender", p.Gender, false, 50)
	checkText(fe, "address", p.Address, false, 300)
	checkText(fe, "about", p.About, false, 2000)
	switch {
	case (p.Latitude == nil) != (p.Longitude == nil):
		fe.add("latitude", "latitude and longitude go together")
	case p.Latitude != nil:
		validateCoordinates(fe, *p.Latitude, *p.Longitude)
	}
	if p.PhoneNumber != "" && !validPhone(p.PhoneNumber) {
		fe.add("phoneNumber", "must be in E.164 form, e.g. +4915112345678")
	}
	checkList(fe, "spokenLanguages", p.SpokenLanguages, 20, 50)
	checkText(fe, "nationality", p.Nationality, false, 100)
	checkText(fe, "regionOfOrigin", p.RegionOfOrigin, false, 100)
	if p.HourlyRate != nil {
		p.HourlyRate.validate(fe, "hourlyRate", false)
	}
	checkText(fe, "educationLevel", p.EducationLevel, false, 100)
	checkText(fe, "disabilities", p.Disabilities, false, 500)
	checkList(fe, "activities", p.Activities, 50, 100)
}

// validPhone accepts E.164: '+' then 7 to 15 digits, not starting with 0.
func validPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validate reports every problem of a NewUser and returns its normalized email.
func (n NewUser) validate(today Date) (string, error) {
	var fe fieldErrors
	if !ValidUsername(n.Username) {
		fe.add("username", "must be 3 to 32 characters of a-z, 0-9, '_', '.', '-'")
	}
	email, ok := NormalizeEmail(n.Email)
	if !ok {
		fe.add("email", "must be a valid email address")
	}
	if n.Type != UserParent && n.Type != UserNanny {
		fe.add("type", "must be PARENT or NANNY")
	}
	n.Profile.validate(&fe, today)
	return email, fe.err()
}

// CreateUser creates the account of the calling user: the actor's username
// and role must match the new account (a parent creates a PARENT account);
// admin accounts are provisioned, not created here. Username and email are
// reserved atomically; the account starts UNVERIFIED.
func (s *Service) CreateUser(ctx context.Context, a Actor, in NewUser) (_ User, err error) {
	const op = "CreateUser"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authenticate(a); err != nil {
		return User{}, opErr(op, err)
	}
	now := s.now()
	email, err := in.validate(DateOf(now))
	if err != nil {
		return User{}, opErr(op, err)
	}
	if a.Username != in.Username {
		return User{}, opErr(op, Errorf(ErrForbidden, "a user may only create their own account"))
	}
	if !(a.Role == RoleParent && in.Type == UserParent || a.Role == RoleNanny && in.Type == UserNanny) {
		return User{}, opErr(op, Errorf(ErrForbidden, "role %q may not create a %s account", a.Role, in.Type))
	}
	u := User{
		ID:        s.newID(),
		Username:  in.Username,
		Email:     email,
		Type:      in.Type,
		Status:    StatusUnverified,
		Profile:   in.Profile,
		CreatedOn: now,
		UpdatedOn: now,
		Version:   1,
		Subject:   a.Subject,
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return User{}, opErr(op, err)
	}
	return u, nil
}

// GetUser returns a user's profile. It is public: anyone, even anonymous,
// sees the public fields; the user themselves and admins also see the
// private ones (email, phone, birth date, address, location).
func (s *Service) GetUser(ctx context.Context, a Actor, username string) (_ User, err error) {
	const op = "GetUser"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := validUsernameArg(username); err != nil {
		return User{}, opErr(op, err)
	}
	u, err := s.store.GetUser(ctx, username)
	if err != nil {
		return User{}, opErr(op, err)
	}
	if a.Role == RoleAdmin || u.ownedBy(a) {
		return u, nil
	}
	return u.public(), nil
}

// UpdateUser changes profile fields (and the email, moving its reservation
// atomically) for the user themselves or an admin. A concurrent update of
// the same profile makes one of them fail with ErrConflict.
func (s *Service) UpdateUser(ctx context.Context, a Actor, username string, p UserPatch) (_ User, err error) {
	const op = "UpdateUser"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeSelf(a, username); err != nil {
		return User{}, opErr(op, err)
	}
	if err := validUsernameArg(username); err != nil {
		return User{}, opErr(op, err)
	}
	cur, err := s.store.GetUser(ctx, username)
	if err != nil {
		return User{}, opErr(op, err)
	}
	next := cur
	p.apply(&next)
	var fe fieldErrors
	if p.Email != nil {
		email, ok := NormalizeEmail(*p.Email)
		if !ok {
			fe.add("email", "must be a valid email address")
		}
		next.Email = email
	}
	now := s.now()
	next.Profile.validate(&fe, DateOf(now))
	if err := fe.err(); err != nil {
		return User{}, opErr(op, err)
	}
	next.UpdatedOn = now
	next.Version = cur.Version + 1
	if err := s.store.UpdateUser(ctx, guard(a, s.active), cur.Email, next); err != nil {
		return User{}, opErr(op, err)
	}
	return next, nil
}

// StatusChange is the input of UpdateUserStatus.
type StatusChange struct {
	Status AccountStatus `json:"status"`
	// UploadID names the identity document a VERIFIED decision is made on:
	// one of the user's Documents. Required with VERIFIED unless
	// Options.VerifyWithoutDocument; refused with any other status.
	UploadID string `json:"uploadId,omitempty"`
}

// UpdateUserStatus sets an account's status; admins only. VERIFIED is a
// decision on an identity document the user uploaded (c.UploadID, checked
// in the same write): the user's Verification records who decided, when
// and on which document. Any other status clears that record.
func (s *Service) UpdateUserStatus(ctx context.Context, a Actor, username string, c StatusChange) (_ User, err error) {
	const op = "UpdateUserStatus"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleAdmin); err != nil {
		return User{}, opErr(op, err)
	}
	var fe fieldErrors
	if !ValidUsername(username) {
		fe.add("username", "must be 3 to 32 characters of a-z, 0-9, '_', '.', '-'")
	}
	if !c.Status.Valid() {
		fe.add("status", "must be UNVERIFIED, VERIFIED or DEACTIVATED")
	}
	switch {
	case c.UploadID != "" && c.Status != StatusVerified:
		fe.add("uploadId", "names the document of a VERIFIED decision; leave it out for %s", c.Status)
	case c.UploadID != "" && !ValidUploadID(c.UploadID):
		fe.add("uploadId", "must be an upload ID: 32 lowercase hex digits")
	case c.UploadID == "" && c.Status == StatusVerified && !s.verifyWithoutDocument:
		fe.add("uploadId", "is required to verify: the identity document the decision is made on")
	}
	if err := fe.err(); err != nil {
		return User{}, opErr(op, err)
	}
	now := s.now()
	up := StatusUpdate{Username: username, Status: c.Status, At: now}
	if c.Status == StatusVerified {
		up.Verification = &Verification{By: a.Username, At: now, UploadID: c.UploadID}
	}
	u, err := s.store.SetUserStatus(ctx, up)
	return u, opErr(op, err)
}

// DeleteUser removes an account and its email reservation, for the user
// themselves or an admin, and leaves a tombstone of the username: it can
// never be registered again, so nothing the account owned (jobs,
// applications, reviews — all kept) can pass to someone else. It is
// refused with ErrConflict while a parent has OPEN jobs. A nanny's PENDING
// applications do not stop it: they can never be booked once the account
// is gone, and are declined when their jobs close.
//
// The account's objects — identity documents, pictures, uploads requested
// — are deleted too: the deletion's write records their keys (an
// Erasure), and DeleteUser deletes them right after it. If that fails, or
// the process dies first, an Eraser's Sweep deletes them; either way
// nothing personal outlives the account.
func (s *Service) DeleteUser(ctx context.Context, a Actor, username string) (err error) {
	const op = "DeleteUser"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeSelf(a, username); err != nil {
		return opErr(op, err)
	}
	if err := validUsernameArg(username); err != nil {
		return opErr(op, err)
	}
	e, err := s.store.DeleteUser(ctx, guard(a, s.active), username, s.now())
	if err != nil {
		return opErr(op, err)
	}
	s.erase(ctx, e)
	return nil
}

// ListUsers lists PARENT or NANNY accounts by username, for admins and
// parents; parents see public profiles only.
func (s *Service) ListUsers(ctx context.Context, a Actor, t UserType, p PageRequest) (_ Page[User], err error) {
	const op = "ListUsers"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleAdmin, RoleParent); err != nil {
		return Page[User]{}, opErr(op, err)
	}
	if t != UserParent && t != UserNanny {
		return Page[User]{}, opErr(op, invalid("type", "must be PARENT or NANNY"))
	}
	p, err = p.normalize()
	if err != nil {
		return Page[User]{}, opErr(op, err)
	}
	page, err := s.store.ListUsers(ctx, guard(a, s.active), t, p)
	if err != nil {
		return Page[User]{}, opErr(op, err)
	}
	if a.Role != RoleAdmin {
		for i, u := range page.Items {
			if !u.ownedBy(a) {
				page.Items[i] = u.public()
			}
		}
	}
	return page, nil
}
