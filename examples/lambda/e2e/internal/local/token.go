package local

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Issuer is the issuer of dev tokens: a Cognito user pool URL, which is
// how the simulator tells a Cognito user pools token (it only checks that
// iss starts with https://cognito-idp.).
const Issuer = "https://cognito-idp." + Region + ".amazonaws.com/" + Region + "_babysitterLocal"

// Token returns an unsigned, Cognito-shaped ID token for username in
// groups, valid for 12 hours. The simulator only decodes tokens (it checks
// no signature and no expiry), so this is enough to sign in locally; it
// would be worthless against a real AppSync API.
func Token(username string, groups ...string) string {
	now := time.Now()
	sum := sha256.Sum256([]byte(username))
	h := hex.EncodeToString(sum[:16])
	claims := map[string]any{
		"sub":              h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32],
		"iss":              Issuer,
		"aud":              "babysitterlocalclient",
		"token_use":        "id",
		"cognito:username": username,
		"email":            username + "@example.com",
		"auth_time":        now.Unix(),
		"iat":              now.Unix(),
		"exp":              now.Add(12 * time.Hour).Unix(),
	}
	if len(groups) > 0 {
		claims["cognito:groups"] = groups
	}
	return TokenWithClaims(claims)
}

// TokenWithClaims returns an unsigned JWT ("alg": "none") with the claims.
func TokenWithClaims(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "."
}
