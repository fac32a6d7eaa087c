// Package appsync serves a babysitter.Service as AWS AppSync direct Lambda
// resolvers: the resolver event type (aws-lambda-go has none for direct
// resolvers), the caller's identity from Cognito user pools, a Router on
// info.parentTypeName/info.fieldName that calls the Service, the GraphQL
// views of the library's types, and the mapping of the library's error
// kinds to GraphQL errorTypes.
//
// The Router implements the schema in examples/lambda/schema.graphql, field
// for field (a test checks the two, and the SAM template's resolvers,
// against each other). A Lambda function serves it with
//
//	router := appsync.NewRouter(svc, appsync.Options{Logger: logger})
//	lambda.Start(lambda.NewHandler(router.Handle))
//
// It has no AWS dependency beyond aws-lambda-go's context and error types:
// tests drive it with checked-in events and the memory backends.
package appsync

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/babysitter-go/babysitter"
)

// Event is what AppSync sends a direct Lambda resolver (no request mapping
// template): the resolver context object. A batched resolver receives a JSON
// array of them.
type Event struct {
	// Arguments are the field's GraphQL arguments, decoded per field.
	Arguments json.RawMessage `json:"arguments"`
	// Identity is null for API-key calls, a Cognito user pools identity for
	// tokens from the pool.
	Identity *Identity       `json:"identity"`
	Source   json.RawMessage `json:"source"`
	Info     Info            `json:"info"`
	Request  Request         `json:"request"`
	Prev     json.RawMessage `json:"prev"`
	Stash    json.RawMessage `json:"stash"`
}

// Info names the field being resolved.
type Info struct {
	FieldName           string         `json:"fieldName"`
	ParentTypeName      string         `json:"parentTypeName"`
	Variables           map[string]any `json:"variables"`
	SelectionSetList    []string       `json:"selectionSetList"`
	SelectionSetGraphQL string         `json:"selectionSetGraphQL"`
}

// Request is the HTTP request AppSync received.
type Request struct {
	Headers    map[string]string `json:"headers"`
	DomainName *string           `json:"domainName"`
}

// RequestID is AppSync's request id (the x-amzn-requestid header), or "".
func (r Request) RequestID() string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, "x-amzn-requestid") {
			return v
		}
	}
	return ""
}

// Identity is the caller as AppSync verified it. For Cognito user pools it
// carries sub, username, groups and the token's claims; a test console or
// simulator may send only the claims, so Actor reads both.
type Identity struct {
	Sub                 string         `json:"sub"`
	Username            string         `json:"username"`
	Issuer              string         `json:"issuer"`
	Groups              []string       `json:"groups"`
	Claims              map[string]any `json:"claims"`
	SourceIP            []string       `json:"sourceIp"`
	DefaultAuthStrategy string         `json:"defaultAuthStrategy"`
	// UserArn is set for IAM-signed calls, which this API does not accept
	// as an identity.
	UserArn string `json:"userArn"`
}

// Actor returns the babysitter.Actor of the caller: anonymous for API-key
// calls (no identity), IAM calls, identities of another issuer than a
// Cognito user pool (an OIDC or Lambda authorizer added beside Cognito
// must not name users and groups here) and identities without a username;
// else the Cognito username with the role of its groups and its sub
// (Actor.Subject, which binds the account). Group names
// match exactly, as Cognito's do: a member of "admin" is an admin
// whatever its other groups; then "parent", then "nanny". Groups that name
// no role leave the role empty, which the Service forbids everywhere a
// role is needed.
func (id *Identity) Actor() babysitter.Actor {
	if id == nil || id.UserArn != "" || !cognitoIssuer(id.Issuer) {
		return babysitter.Actor{}
	}
	username := id.Username
	if username == "" {
		username = claimString(id.Claims, "cognito:username")
	}
	if username == "" {
		username = claimString(id.Claims, "username") // access tokens
	}
	if username == "" {
		return babysitter.Actor{}
	}
	sub := id.Sub
	if sub == "" {
		sub = claimString(id.Claims, "sub")
	}
	return babysitter.Actor{Username: username, Role: roleOf(id.groups()), Subject: sub}
}

// groups returns identity.groups, or else the token's cognito:groups claim.
func (id *Identity) groups() []string {
	if len(id.Groups) > 0 {
		return id.Groups
	}
	switch v := id.Claims["cognito:groups"].(type) {
	case []any:
		gs := make([]string, 0, len(v))
		for _, g := range v {
			if s, ok := g.(string); ok {
				gs = append(gs, s)
			}
		}
		return gs
	case []string:
		return v
	case string:
		// Some tools flatten the array: "admin,parent", "admin parent" or
		// "[admin, parent]".
		return strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ' ' || r == '[' || r == ']' || r == '"'
		})
	}
	return nil
}

// cognitoIssuer reports whether iss is a Cognito user pool's issuer
// (https://cognito-idp.<region>.amazonaws.com/<pool id>), or empty: the
// AppSync console and simulators send Cognito claims without one.
func cognitoIssuer(iss string) bool {
	if iss == "" {
		return true
	}
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") == "" || strings.Contains(strings.Trim(u.Path, "/"), "/") {
		return false
	}
	region, ok := strings.CutPrefix(u.Host, "cognito-idp.")
	return ok && strings.HasSuffix(region, ".amazonaws.com") && !strings.Contains(strings.TrimSuffix(region, ".amazonaws.com"), ".")
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// roleOf picks the role of a set of Cognito groups: admin wins.
func roleOf(groups []string) babysitter.Role {
	var role babysitter.Role
	for _, g := range groups {
		switch babysitter.Role(strings.TrimSpace(g)) {
		case babysitter.RoleAdmin:
			return babysitter.RoleAdmin
		case babysitter.RoleParent:
			role = babysitter.RoleParent
		case babysitter.RoleNanny:
			if role == "" {
				role = babysitter.RoleNanny
			}
		}
	}
	return role
}
