# METADATA
# title: ztmint mint policy
# description: |
#   Decides whether a GitHub Actions workflow, identified by the verified claims
#   of its OIDC token, may mint a deploy token with the requested scopes, ttl and
#   audience. Reads the policy data as data.ztmint (see data.schema.json) and
#   always produces a decision document, also for malformed input:
#
#     input = {"claims": {...}, "request": {"scopes": [...], "ttl": n?, "audience": s?}}
#     data.ztmint.mint.decision =
#       {"allow": bool, "scopes": [...], "ttl": n, "audience": s, "reasons": [...]}
#
#   On top of the grants, two policy-wide rules apply to every request:
#   - a token whose event_name is "pull_request_target" is only matched by a
#     grant whose match.event_name is exactly "pull_request_target" (a glob
#     such as "*" does not count);
#   - data.ztmint.require, when present, is an object of claim -> exact value
#     or glob that every token must satisfy as well.
#
#   Only builtins that are native to OPA's WebAssembly target are used (no
#   sprintf), so the compiled policy gives the same answers in opa-wasm as in
#   `opa eval` / `opa test`.
package ztmint.mint

# ---------------------------------------------------------------------------
# Decision (the only entrypoint: ztmint/mint/decision)
# ---------------------------------------------------------------------------

# METADATA
# description: The mint decision. Always defined; reasons are sorted and empty iff allow is true.
# entrypoint: true
decision := {
	"allow": allow,
	"scopes": granted_scopes,
	"ttl": ttl,
	"audience": audience,
	"reasons": sort(reasons),
}

default allow := false

allow if count(reasons) == 0

# The requested scopes, sorted and deduplicated, when allowed; [] when denied.
granted_scopes := sort(requested_scopes) if {
	allow
} else := []

# ---------------------------------------------------------------------------
# Input normalisation: everything below works on these, so garbage input
# yields a deny with reasons instead of an undefined decision.
# ---------------------------------------------------------------------------

# Note: OPA evaluates a builtin's arguments outside a negation, so
# `not is_object(input.x)` is undefined (not true) when input.x is missing.
# Negations below only ever apply to rules or to calls with bound arguments.

claims_is_object if is_object(input.claims)

request_is_object if is_object(input.request)

claims := input.claims if {
	claims_is_object
} else := {}

request := input.request if {
	request_is_object
} else := {}

scopes_well_formed if {
	is_array(request.scopes)
	count(request.scopes) > 0
	every s in request.scopes {
		is_string(s)
	}
}

# Set of the string scopes requested (duplicates collapse).
requested_scopes contains s if {
	is_array(request.scopes)
	some s in request.scopes
	is_string(s)
}

# `"ttl": null` and `"audience": null` count as absent.
ttl_requested if request.ttl != null

# Bounded so every ttl can be formatted in a reason (opa-wasm's format_int stops at 2^31 - 1).
ttl_well_formed if {
	positive_integer(request.ttl)
	request.ttl <= max_request_ttl
}

max_request_ttl := 2147483647

audience_requested if request.audience != null

audience_is_string if is_string(request.audience)

# ---------------------------------------------------------------------------
# Policy data (data.ztmint), with safe fallbacks so a broken data document
# denies with a reason instead of leaving the decision undefined. Sub-paths
# are read one by one: data.ztmint as a whole contains this package.
# ---------------------------------------------------------------------------

policy_scopes := {s | some s in data.ztmint.scopes; is_string(s)} if {
	is_array(data.ztmint.scopes)
} else := set()

policy_audiences := data.ztmint.audiences if {
	is_array(data.ztmint.audiences)
} else := []

grants := data.ztmint.grants if {
	is_array(data.ztmint.grants)
} else := []

ttl_default := data.ztmint.ttl["default"] if positive_integer(data.ztmint.ttl["default"])

ttl_max := data.ztmint.ttl.max if positive_integer(data.ztmint.ttl.max)

# Policy-wide claim requirements: absent means none; present but not an
# object denies every request (see require_broken).
requirements := data.ztmint.require if {
	is_object(data.ztmint.require)
} else := {}

require_broken if {
	r := data.ztmint.require
	not is_object(r)
}

positive_integer(x) if {
	is_number(x)
	x > 0
	floor(x) == x
}

# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------

# Indices of the grants whose every match condition holds for the claims.
matching contains i if {
	some i, grant in grants
	grant_matches(grant)
}

grant_matches(grant) if {
	has_match_conditions(grant)
	every key, want in grant.match {
		claim_matches(key, want)
	}
	not event_refused(grant)
}

# pull_request_target runs with the base repository's secrets and OIDC
# identity on behalf of a pull request's author, so no grant covers it by
# accident: only a grant that names the event exactly (not by a glob) applies.
refused_event := "pull_request_target"

token_event_refused if claims.event_name == refused_event

grant_names_refused_event(grant) if grant.match.event_name == refused_event

event_refused(grant) if {
	token_event_refused
	not grant_names_refused_event(grant)
}

# A missing (or non-string) claim never matches.
claim_matches(key, want) if {
	is_string(want)
	have := claims[key]
	is_string(have)
	value_matches(want, have)
}

# A value without `*` is compared literally.
value_matches(want, have) if {
	not contains(want, "*")
	want == have
}

# A value with `*` is a glob whose `*` matches any run of characters within
# one "/"-separated segment: pattern and value must have the same number of
# segments, and each segment must match (so `acme/*` matches `acme/x` but not
# `acme/x/y`, and `**` is no different from `*`). Every other glob
# metacharacter is escaped and therefore literal.
value_matches(want, have) if {
	contains(want, "*")
	want_segments := split(want, "/")
	have_segments := split(have, "/")
	count(want_segments) == count(have_segments)
	every i, w in want_segments {
		segment_matches(w, have_segments[i])
	}
}

segment_matches(w, h) if {
	not contains(w, "*")
	w == h
}

segment_matches(w, h) if {
	contains(w, "*")
	regex.match(segment_regex(w), h)
}

# A glob segment as an anchored regular expression: each literal part escaped, each `*` any run of
# characters but "/". (opa-wasm's glob.match does not treat every metacharacter literally, so the
# policy builds its own pattern with regex.match, which behaves the same in opa and in wasm.)
segment_regex(w) := concat("", ["^", concat("[^/]*", [regex_escape(part) | some part in split(w, "*")]), "$"])

# Escape RE2 metacharacters (backslash first).
regex_escape(s) := escaped if {
	s1 := replace(s, "\\", "\\\\")
	s2 := replace(s1, ".", "\\.")
	s3 := replace(s2, "+", "\\+")
	s4 := replace(s3, "?", "\\?")
	s5 := replace(s4, "(", "\\(")
	s6 := replace(s5, ")", "\\)")
	s7 := replace(s6, "[", "\\[")
	s8 := replace(s7, "]", "\\]")
	s9 := replace(s8, "{", "\\{")
	s10 := replace(s9, "}", "\\}")
	s11 := replace(s10, "|", "\\|")
	s12 := replace(s11, "^", "\\^")
	escaped := replace(s12, "$", "\\$")
}

grant_lists_scope(grant, s) if {
	is_array(grant.scopes)
	s in grant.scopes
}

# Requested scopes granted by at least one matching grant.
granted contains s if {
	some s in requested_scopes
	some i in matching
	grant_lists_scope(grants[i], s)
}

# The grants used: matching grants that grant a requested scope.
used contains i if {
	some i in matching
	some s in requested_scopes
	grant_lists_scope(grants[i], s)
}

# ---------------------------------------------------------------------------
# ttl
# ---------------------------------------------------------------------------

# All the caps that apply: ttl.max and the max_ttl of every grant used.
ttl_caps contains ttl_max

ttl_caps contains grants[i].max_ttl if {
	some i in used
	positive_integer(grants[i].max_ttl)
}

# The requested ttl; when absent min(ttl.default, caps); 0 when unusable.
ttl := request.ttl if {
	ttl_requested
	ttl_well_formed
} else := 0 if {
	ttl_requested
} else := min(ttl_caps | {ttl_default}) if {
	ttl_default
} else := 0

# ---------------------------------------------------------------------------
# Audience
# ---------------------------------------------------------------------------

audience := request.audience if {
	audience_requested
	audience_is_string
} else := "" if {
	audience_requested
} else := policy_audiences[0] if {
	default_audience_ok
} else := ""

default_audience_ok if is_string(policy_audiences[0])

# ---------------------------------------------------------------------------
# Reasons: one per unmet condition. allow iff there are none.
# ---------------------------------------------------------------------------

reasons contains "request must be an object" if not request_is_object

reasons contains "claims must be an object" if not claims_is_object

reasons contains "request.scopes must be a non-empty array of strings" if not scopes_well_formed

reasons contains msg if {
	some s in requested_scopes
	not s in policy_scopes
	msg := concat("", ["scope ", quote(s), " is not defined by the policy"])
}

reasons contains msg if {
	some s in requested_scopes
	not s in granted
	msg := concat("", ["scope ", quote(s), " is not granted to ", who, " by any grant"])
}

reasons contains msg if {
	count(matching) == 0
	msg := concat("", ["no grant matches ", identity])
}

# A requested scope is not granted and the pull_request_target rule set aside
# at least one grant (with match conditions) that lists it.
reasons contains msg if {
	some s in requested_scopes
	not s in granted
	some grant in grants
	grant_lists_scope(grant, s)
	has_match_conditions(grant)
	event_refused(grant)
	msg := concat("", ["event ", quote(refused_event), " is refused unless a grant names it explicitly"])
}

# Every unmet policy-wide requirement, one reason each.
reasons contains msg if {
	some key, want in requirements
	not claim_matches(key, want)
	msg := concat("", ["policy requirement not met: ", mismatch(key, want)])
}

reasons contains "policy data: require must be an object" if require_broken

# For a scope that is not granted, say why each grant that lists it does not match.
reasons contains msg if {
	some s in requested_scopes
	not s in granted
	some i, grant in grants
	grant_lists_scope(grant, s)
	some why in mismatches(grant)
	msg := concat("", ["grant ", quote(grant_name(i)), ", which grants ", quote(s), ", does not match: ", why])
}

reasons contains "request.ttl must be a positive integer number of seconds, at most 2147483647" if {
	ttl_requested
	not ttl_well_formed
}

reasons contains "policy data: ttl.default must be a positive integer" if not ttl_default

reasons contains "policy data: ttl.max must be a positive integer" if not ttl_max

reasons contains msg if {
	ttl > ttl_max
	msg := concat("", ["ttl ", format_int(ttl, 10), " exceeds the policy maximum ", format_int(ttl_max, 10)])
}

reasons contains msg if {
	some i in used
	max_ttl := grants[i].max_ttl
	positive_integer(max_ttl)
	ttl > max_ttl
	msg := concat("", ["ttl ", format_int(ttl, 10), " exceeds the maximum ", format_int(max_ttl, 10), " of grant ", quote(grant_name(i))])
}

reasons contains msg if {
	some i in used
	max_ttl := object.get(grants[i], "max_ttl", null)
	max_ttl != null
	not positive_integer(max_ttl)
	msg := concat("", ["policy data: max_ttl of grant ", quote(grant_name(i)), " must be a positive integer"])
}

reasons contains "request.audience must be a string" if {
	audience_requested
	not audience_is_string
}

reasons contains msg if {
	audience_requested
	aud := request.audience
	is_string(aud)
	not aud in policy_audiences
	msg := concat("", ["audience ", quote(aud), " is not allowed"])
}

reasons contains "no audience was requested and the policy lists none" if {
	not audience_requested
	not default_audience_ok
}

# ---------------------------------------------------------------------------
# Wording helpers
# ---------------------------------------------------------------------------

quote(s) := concat("", ["\"", s, "\""])

grant_name(i) := grants[i].name if {
	is_string(grants[i].name)
} else := concat("", ["#", format_int(i, 10)])

# Who is asking, for "scope ... is not granted to <who> by any grant".
who := concat("", ["repository ", quote(claims.repository)]) if {
	is_string(claims.repository)
} else := "a token without a repository claim"

# The identifying claims, for "no grant matches <identity>".
identity := concat(", ", parts) if {
	parts := [concat("", [k, " ", quote(claims[k])]) |
		some k in ["repository", "ref", "environment"]
		is_string(claims[k])
	]
	count(parts) > 0
} else := "the token's claims"

# Why a grant does not match: one string per failing condition.
mismatches(grant) := {"it has no match conditions"} if {
	not has_match_conditions(grant)
} else := claim_mismatches(grant) | event_mismatches(grant)

claim_mismatches(grant) := {why |
	some key, want in grant.match
	not claim_matches(key, want)
	why := mismatch(key, want)
}

event_mismatches(grant) := {concat("", ["it does not name event ", quote(refused_event), " explicitly"])} if {
	event_refused(grant)
} else := set()

has_match_conditions(grant) if {
	is_object(grant.match)
	count(grant.match) > 0
}

claim_is_string(key) if is_string(claims[key])

mismatch(key, want) := concat("", ["claim ", quote(key), " is missing"]) if {
	not claim_is_string(key)
} else := concat("", ["claim ", quote(key), " has an invalid pattern"]) if {
	not is_string(want)
} else := concat("", ["claim ", quote(key), " is ", quote(claims[key]), ", not ", quote(want)])
