// Relying-party example (Go, github.com/golang-jwt/jwt/v5): verify a ztmint token the way
// docs/verifying.md says.
//
//	go run . <issuer> <audience> <token> [required-scope ...]
//
// Exits 0 and prints the claims for a genuine token, 1 for any token it refuses, 2 on bad usage.
package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const leeway = 30 * time.Second // small clock-skew allowance for exp, nbf and iat

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
}

var client = &http.Client{Timeout: 10 * time.Second}

func getJSON(url string, into any) error {
	res, err := client.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(into)
}

// keys fetches the issuer's Ed25519 keys by kid, through discovery (never from the token).
func keys(issuer string) (map[string]ed25519.PublicKey, error) {
	var discovery struct {
		Issuer  string `json:"issuer"`
		JwksURI string `json:"jwks_uri"`
	}
	if err := getJSON(strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, err
	}
	if discovery.Issuer != issuer {
		return nil, fmt.Errorf("discovery names issuer %q, not %q", discovery.Issuer, issuer)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := getJSON(discovery.JwksURI, &set); err != nil {
		return nil, err
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Kid == "" || (k.Alg != "" && k.Alg != "EdDSA") {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	return out, nil
}

func verify(issuer, audience, token string, requiredScopes []string) (jwt.MapClaims, error) {
	byKid, err := keys(issuer)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"EdDSA"}), // never none, HS*, RS*
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	_, err = parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "JWT" {
			return nil, fmt.Errorf("typ %q is not JWT", typ)
		}
		kid, _ := t.Header["kid"].(string)
		key, ok := byKid[kid]
		if !ok {
			return nil, fmt.Errorf("no Ed25519 key with kid %q", kid)
		}
		return key, nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"sub", "jti", "scope", "pol"} {
		if s, ok := claims[name].(string); !ok || s == "" {
			return nil, fmt.Errorf("claim %s is missing or not a string", name)
		}
	}
	if _, ok := claims["nbf"].(float64); !ok {
		return nil, errors.New("claim nbf is missing")
	}
	// scope: space-separated scope-tokens; every required scope must be among them.
	scopes := strings.Fields(claims["scope"].(string))
	for _, s := range requiredScopes {
		if !slices.Contains(scopes, s) {
			return nil, fmt.Errorf("missing scope %q", s)
		}
	}
	claims["scopes"] = scopes
	return claims, nil
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: verify <issuer> <audience> <token> [required-scope ...]")
		os.Exit(2)
	}
	claims, err := verify(os.Args[1], os.Args[2], os.Args[3], os.Args[4:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "refused: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.MarshalIndent(claims, "", "  ")
	fmt.Println(string(out))
}
