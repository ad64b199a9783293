package ztmint.mint_test

# Unit tests for policies/mint.rego: `opa test -v policies/`.
#
# The tests never depend on what `opa test` happens to load from the
# directory: every decision is computed with the data document replaced,
# sub-path by sub-path, by a fixture (`with data.ztmint.ttl as ...` etc.).
# `fixture` is a copy of policies/data.json (the ARCHITECTURE.md example);
# test/policy.test.ts checks the compiled wasm against the real file.

import data.ztmint.mint

fixture := {
	"ttl": {"default": 900, "max": 3600},
	"scopes": ["read:logs", "write:staging", "deploy:canary", "deploy:prod"],
	"audiences": ["https://deploy.example"],
	"grants": [
		{
			"name": "webapp-main",
			"match": {"repository": "acme/webapp", "ref": "refs/heads/main"},
			"scopes": ["read:logs", "deploy:canary"], "max_ttl": 1800,
		},
		{
			"name": "webapp-prod",
			"match": {
				"repository": "acme/webapp", "environment": "production",
				"job_workflow_ref": "acme/webapp/.github/workflows/deploy.yml@refs/heads/main",
			},
			"scopes": ["deploy:prod"], "max_ttl": 900,
		},
	],
}

# Policy data with glob grants and no per-grant cap on the first one.
glob_fixture := {
	"ttl": {"default": 900, "max": 3600},
	"scopes": ["read:logs", "write:staging"],
	"audiences": ["https://a.example", "https://b.example"],
	"grants": [
		{"name": "acme-any-repo", "match": {"repository": "acme/*"}, "scopes": ["read:logs"]},
		{
			"name": "release-branches",
			"match": {"repository": "acme/*", "ref": "refs/heads/release-*"},
			"scopes": ["write:staging"], "max_ttl": 600,
		},
	],
}

main_claims := {
	"repository": "acme/webapp",
	"repository_owner": "acme",
	"ref": "refs/heads/main",
	"event_name": "push",
	"sub": "repo:acme/webapp:ref:refs/heads/main",
	"job_workflow_ref": "acme/webapp/.github/workflows/ci.yml@refs/heads/main",
}

prod_claims := {
	"repository": "acme/webapp",
	"repository_owner": "acme",
	"ref": "refs/heads/main",
	"environment": "production",
	"event_name": "push",
	"sub": "repo:acme/webapp:environment:production",
	"job_workflow_ref": "acme/webapp/.github/workflows/deploy.yml@refs/heads/main",
}

decide(claims, request) := decide_with(fixture, claims, request)

decide_with(d, claims, request) := decide_input_with(d, {"claims": claims, "request": request})

decide_input(inp) := decide_input_with(fixture, inp)

decide_input_with(d, inp) := result if {
	result := mint.decision with input as inp
		with data.ztmint.ttl as object.get(d, "ttl", null)
		with data.ztmint.scopes as object.get(d, "scopes", null)
		with data.ztmint.audiences as object.get(d, "audiences", null)
		with data.ztmint.grants as object.get(d, "grants", null)
}

denied_with(d, inp, reasons) if {
	result := decide_input_with(d, inp)
	result.allow == false
	result.scopes == []
	result.reasons == reasons
}

# ---------------------------------------------------------------------------
# Allowed requests
# ---------------------------------------------------------------------------

test_main_canary_allowed_with_defaults if {
	decide(main_claims, {"scopes": ["deploy:canary"]}) == {
		"allow": true,
		"scopes": ["deploy:canary"],
		"ttl": 900,
		"audience": "https://deploy.example",
		"reasons": [],
	}
}

test_scopes_sorted_and_deduplicated if {
	d := decide(main_claims, {"scopes": ["read:logs", "deploy:canary", "read:logs"]})
	d.allow
	d.scopes == ["deploy:canary", "read:logs"]
}

test_explicit_ttl_at_grant_cap_and_listed_audience_allowed if {
	decide(main_claims, {"scopes": ["read:logs"], "ttl": 1800, "audience": "https://deploy.example"}) == {
		"allow": true,
		"scopes": ["read:logs"],
		"ttl": 1800,
		"audience": "https://deploy.example",
		"reasons": [],
	}
}

test_null_ttl_and_audience_count_as_absent if {
	d := decide(main_claims, {"scopes": ["read:logs"], "ttl": null, "audience": null})
	d.allow
	d.ttl == 900
	d.audience == "https://deploy.example"
}

test_environment_bound_grant_allows_prod if {
	decide(prod_claims, {"scopes": ["deploy:prod"]}) == {
		"allow": true,
		"scopes": ["deploy:prod"],
		"ttl": 900,
		"audience": "https://deploy.example",
		"reasons": [],
	}
}

test_scope_granted_when_one_of_several_listing_grants_matches if {
	d := fixture.grants[0]
	extra := {"name": "other", "match": {"repository": "acme/other"}, "scopes": ["read:logs"]}
	data_ := object.union(fixture, {"grants": [extra, d]})
	result := decide_with(data_, main_claims, {"scopes": ["read:logs"]})
	result.allow
	result.reasons == []
}

test_extra_claims_are_ignored if {
	d := decide(object.union(main_claims, {"actor": "octocat", "run_id": "1"}), {"scopes": ["deploy:canary"]})
	d.allow
}

# ---------------------------------------------------------------------------
# Scopes
# ---------------------------------------------------------------------------

test_prod_scope_denied_from_main_branch if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary", "deploy:prod"]}}, [
		"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"environment\" is missing",
		"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"job_workflow_ref\" is \"acme/webapp/.github/workflows/ci.yml@refs/heads/main\", not \"acme/webapp/.github/workflows/deploy.yml@refs/heads/main\"",
		"scope \"deploy:prod\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_environment_bound_grant_denies_other_environment if {
	claims := object.union(prod_claims, {"environment": "staging"})
	denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:prod"]}}, [
		"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"environment\" is \"staging\", not \"production\"",
		"scope \"deploy:prod\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_unknown_scope_denied if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary", "deploy:moon"]}}, [
		"scope \"deploy:moon\" is not defined by the policy",
		"scope \"deploy:moon\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_known_scope_without_any_grant_denied if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["write:staging"]}}, [
		"scope \"write:staging\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_scope_granted_by_grant_but_not_listed_in_policy_scopes_denied if {
	data_ := object.union(fixture, {"scopes": ["read:logs"]})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"scope \"deploy:canary\" is not defined by the policy",
	])
}

# ---------------------------------------------------------------------------
# Matching: exact values, globs, missing claims
# ---------------------------------------------------------------------------

test_no_grant_matches_other_repository if {
	claims := object.union(main_claims, {"repository": "acme/other"})
	denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"repository\" is \"acme/other\", not \"acme/webapp\"",
		"no grant matches repository \"acme/other\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/other\" by any grant",
	])
}

test_other_branch_denied if {
	claims := object.union(main_claims, {"ref": "refs/heads/dev"})
	denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"ref\" is \"refs/heads/dev\", not \"refs/heads/main\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/dev\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_missing_claim_never_matches if {
	claims := object.remove(main_claims, ["ref"])
	denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"ref\" is missing",
		"no grant matches repository \"acme/webapp\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_missing_repository_claim_denied if {
	denied_with(fixture, {"claims": {}, "request": {"scopes": ["read:logs"]}}, [
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"ref\" is missing",
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"repository\" is missing",
		"no grant matches the token's claims",
		"scope \"read:logs\" is not granted to a token without a repository claim by any grant",
	])
}

test_non_string_claim_never_matches if {
	claims := object.union(main_claims, {"ref": ["refs/heads/main"]})
	d := decide(claims, {"scopes": ["deploy:canary"]})
	not d.allow
	"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"ref\" is missing" in d.reasons
}

test_no_grant_matches_names_environment if {
	claims := object.union(prod_claims, {"repository": "acme/other"})
	d := decide(claims, {"scopes": ["deploy:prod"]})
	not d.allow
	"no grant matches repository \"acme/other\", ref \"refs/heads/main\", environment \"production\"" in d.reasons
}

test_missing_claim_never_matches_a_glob if {
	denied_with(glob_fixture, {"claims": {"ref": "refs/heads/main"}, "request": {"scopes": ["read:logs"]}}, [
		"grant \"acme-any-repo\", which grants \"read:logs\", does not match: claim \"repository\" is missing",
		"no grant matches ref \"refs/heads/main\"",
		"scope \"read:logs\" is not granted to a token without a repository claim by any grant",
	])
}

test_glob_matches_one_segment if {
	d := decide_with(glob_fixture, {"repository": "acme/x"}, {"scopes": ["read:logs"]})
	d == {"allow": true, "scopes": ["read:logs"], "ttl": 900, "audience": "https://a.example", "reasons": []}
}

test_glob_does_not_match_two_segments if {
	denied_with(glob_fixture, {"claims": {"repository": "acme/x/y"}, "request": {"scopes": ["read:logs"]}}, [
		"grant \"acme-any-repo\", which grants \"read:logs\", does not match: claim \"repository\" is \"acme/x/y\", not \"acme/*\"",
		"no grant matches repository \"acme/x/y\"",
		"scope \"read:logs\" is not granted to repository \"acme/x/y\" by any grant",
	])
}

test_glob_does_not_match_other_owner if {
	not decide_with(glob_fixture, {"repository": "acme-corp/x"}, {"scopes": ["read:logs"]}).allow
	not decide_with(glob_fixture, {"repository": "evil/acme/x"}, {"scopes": ["read:logs"]}).allow
}

test_glob_with_prefix_in_segment if {
	claims := {"repository": "acme/webapp", "ref": "refs/heads/release-1.2"}
	d := decide_with(glob_fixture, claims, {"scopes": ["write:staging", "read:logs"]})
	d.allow
	d.scopes == ["read:logs", "write:staging"]
	d.ttl == 600
	not decide_with(glob_fixture, {"repository": "acme/webapp", "ref": "refs/heads/release-1/x"}, {"scopes": ["write:staging"]}).allow
	not decide_with(glob_fixture, {"repository": "acme/webapp", "ref": "refs/heads/main"}, {"scopes": ["write:staging"]}).allow
}

test_value_matches_exact if {
	mint.value_matches("acme/webapp", "acme/webapp")
	not mint.value_matches("acme/webapp", "acme/webapp2")
	not mint.value_matches("acme/webapp", "Acme/webapp")
	not mint.value_matches("acme/webapp", "")
}

test_value_matches_star_within_one_segment if {
	mint.value_matches("acme/*", "acme/x")
	mint.value_matches("acme/*", "acme/")
	not mint.value_matches("acme/*", "acme/x/y")
	not mint.value_matches("acme/*", "acme")
	not mint.value_matches("acme/*", "acmex/y")
	mint.value_matches("*/webapp", "acme/webapp")
	not mint.value_matches("*", "acme/webapp")
	mint.value_matches("refs/heads/*-hotfix", "refs/heads/x-hotfix")
	mint.value_matches("a*b*c", "aXXbYYc")
	not mint.value_matches("a*b*c", "aXXbYY")
}

test_value_matches_double_star_is_not_recursive if {
	mint.value_matches("acme/**", "acme/x")
	not mint.value_matches("acme/**", "acme/x/y")
}

test_value_matches_other_metacharacters_are_literal if {
	# without `*` the value is compared as is
	mint.value_matches("acme/[x]?", "acme/[x]?")
	not mint.value_matches("acme/[x]?", "acme/xy")

	# with `*` only `*` is special
	mint.value_matches("acme/a?c*", "acme/a?cd")
	not mint.value_matches("acme/a?c*", "acme/abcd")
	mint.value_matches("acme/{a,b}*", "acme/{a,b}x")
	not mint.value_matches("acme/{a,b}*", "acme/ax")
	mint.value_matches("acme/[ab]*", "acme/[ab]x")
	not mint.value_matches("acme/[ab]*", "acme/ax")
	mint.value_matches("acme/\\*", "acme/\\x")
	not mint.value_matches("acme/\\*", "acme/*x")
}

test_glob_escape if {
	mint.glob_escape("a?[b]{c}\\*") == "a\\?\\[b\\]\\{c\\}\\\\*"
}

test_grant_with_empty_match_never_matches if {
	data_ := object.union(fixture, {"grants": [{"name": "everyone", "match": {}, "scopes": ["read:logs"]}]})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["read:logs"]}}, [
		"grant \"everyone\", which grants \"read:logs\", does not match: it has no match conditions",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_grant_with_non_object_match_never_matches if {
	data_ := object.union(fixture, {"grants": [{"name": "broken", "match": "acme/*", "scopes": ["read:logs"]}]})
	d := decide_with(data_, main_claims, {"scopes": ["read:logs"]})
	not d.allow
	"grant \"broken\", which grants \"read:logs\", does not match: it has no match conditions" in d.reasons
}

test_grant_with_non_string_pattern_never_matches if {
	data_ := object.union(fixture, {"grants": [{"name": "n", "match": {"repository": 1}, "scopes": ["read:logs"]}]})
	d := decide_with(data_, main_claims, {"scopes": ["read:logs"]})
	not d.allow
	"grant \"n\", which grants \"read:logs\", does not match: claim \"repository\" has an invalid pattern" in d.reasons
}

test_unnamed_grant_is_named_by_index if {
	data_ := object.union(fixture, {"grants": [{"match": {"repository": "acme/webapp"}, "scopes": ["read:logs"], "max_ttl": 60}]})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["read:logs"], "ttl": 61}}, [
		"ttl 61 exceeds the maximum 60 of grant \"#0\"",
	])
}

test_non_object_grants_are_ignored if {
	data_ := object.union(fixture, {"grants": ["junk", 1, null, fixture.grants[0]]})
	decide_with(data_, main_claims, {"scopes": ["read:logs"]}).allow
}

# ---------------------------------------------------------------------------
# ttl
# ---------------------------------------------------------------------------

test_ttl_above_grant_max_denied if {
	d := decide(main_claims, {"scopes": ["deploy:canary"], "ttl": 1801})
	d == {
		"allow": false,
		"scopes": [],
		"ttl": 1801,
		"audience": "https://deploy.example",
		"reasons": ["ttl 1801 exceeds the maximum 1800 of grant \"webapp-main\""],
	}
}

test_ttl_above_grant_and_policy_max_denied_twice if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary"], "ttl": 7200}}, [
		"ttl 7200 exceeds the maximum 1800 of grant \"webapp-main\"",
		"ttl 7200 exceeds the policy maximum 3600",
	])
}

test_ttl_above_global_max_denied if {
	# acme-any-repo has no max_ttl: only ttl.max applies
	allowed := decide_with(glob_fixture, {"repository": "acme/x"}, {"scopes": ["read:logs"], "ttl": 3600})
	allowed.allow
	allowed.ttl == 3600
	denied_with(glob_fixture, {"claims": {"repository": "acme/x"}, "request": {"scopes": ["read:logs"], "ttl": 3601}}, [
		"ttl 3601 exceeds the policy maximum 3600",
	])
}

test_smallest_max_ttl_of_grants_used_applies if {
	request := {"scopes": ["deploy:canary", "deploy:prod"], "ttl": 1000}
	denied_with(fixture, {"claims": prod_claims, "request": request}, [
		"ttl 1000 exceeds the maximum 900 of grant \"webapp-prod\"",
	])
	decide(prod_claims, {"scopes": ["deploy:canary", "deploy:prod"], "ttl": 900}).allow
}

test_matching_grant_that_is_not_used_does_not_cap_ttl if {
	# prod_claims match webapp-prod (max_ttl 900) too, but only webapp-main is used
	d := decide(prod_claims, {"scopes": ["deploy:canary"], "ttl": 1800})
	d.allow
	d.ttl == 1800
}

test_default_ttl_lowered_to_smallest_cap if {
	data_ := object.union(fixture, {"ttl": {"default": 3000, "max": 3600}})
	decide_with(data_, main_claims, {"scopes": ["deploy:canary"]}).ttl == 1800
	decide_with(data_, prod_claims, {"scopes": ["deploy:canary", "deploy:prod"]}).ttl == 900
	decide_with(data_, main_claims, {"scopes": ["deploy:canary"]}).allow
	data2 := object.union(fixture, {"ttl": {"default": 5000, "max": 1200}})
	decide_with(data2, main_claims, {"scopes": ["deploy:canary"]}).ttl == 1200
}

test_default_ttl_not_capped_by_unused_grants if {
	data_ := object.union(glob_fixture, {"ttl": {"default": 3000, "max": 3600}})
	decide_with(data_, {"repository": "acme/x", "ref": "refs/heads/release-1"}, {"scopes": ["read:logs"]}).ttl == 3000
}

test_invalid_ttl_denied if {
	reason := "request.ttl must be a positive integer number of seconds"
	every ttl in [0, -60, 1.5, "900", true, [900], {"s": 900}] {
		denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary"], "ttl": ttl}}, [reason])
		decide(main_claims, {"scopes": ["deploy:canary"], "ttl": ttl}).ttl == 0
	}
}

test_broken_ttl_data_denied if {
	data_ := object.remove(fixture, ["ttl"])
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"policy data: ttl.default must be a positive integer",
		"policy data: ttl.max must be a positive integer",
	])
	decide_with(data_, main_claims, {"scopes": ["deploy:canary"]}).ttl == 0
	data2 := object.union(fixture, {"ttl": {"default": 0, "max": "3600"}})
	denied_with(data2, {"claims": main_claims, "request": {"scopes": ["deploy:canary"], "ttl": 60}}, [
		"policy data: ttl.default must be a positive integer",
		"policy data: ttl.max must be a positive integer",
	])
}

test_broken_grant_max_ttl_denied if {
	grant := object.union(fixture.grants[0], {"max_ttl": "1800"})
	data_ := object.union(fixture, {"grants": [grant]})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"policy data: max_ttl of grant \"webapp-main\" must be a positive integer",
	])
}

# ---------------------------------------------------------------------------
# Audience
# ---------------------------------------------------------------------------

test_audience_not_listed_denied if {
	d := decide(main_claims, {"scopes": ["deploy:canary"], "audience": "https://evil.example"})
	d == {
		"allow": false,
		"scopes": [],
		"ttl": 900,
		"audience": "https://evil.example",
		"reasons": ["audience \"https://evil.example\" is not allowed"],
	}
}

test_audience_defaults_to_first_listed if {
	decide_with(glob_fixture, {"repository": "acme/x"}, {"scopes": ["read:logs"]}).audience == "https://a.example"
	d := decide_with(glob_fixture, {"repository": "acme/x"}, {"scopes": ["read:logs"], "audience": "https://b.example"})
	d.allow
	d.audience == "https://b.example"
}

test_non_string_audience_denied if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary"], "audience": ["https://deploy.example"]}}, [
		"request.audience must be a string",
	])
	decide(main_claims, {"scopes": ["deploy:canary"], "audience": 1}).audience == ""
}

test_no_audiences_in_data_denied if {
	data_ := object.union(fixture, {"audiences": []})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"no audience was requested and the policy lists none",
	])
	decide_with(data_, main_claims, {"scopes": ["deploy:canary"]}).audience == ""
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["deploy:canary"], "audience": "https://deploy.example"}}, [
		"audience \"https://deploy.example\" is not allowed",
	])
}

# ---------------------------------------------------------------------------
# Malformed input: the decision is always defined, and denies
# ---------------------------------------------------------------------------

test_scopes_must_be_a_non_empty_array_of_strings if {
	reason := "request.scopes must be a non-empty array of strings"
	every scopes in [[], "deploy:canary", null, {"deploy:canary": true}, 1] {
		denied_with(fixture, {"claims": main_claims, "request": {"scopes": scopes}}, [reason])
	}
	denied_with(fixture, {"claims": main_claims, "request": {}}, [reason])
}

test_non_string_scope_denies_whole_request if {
	denied_with(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary", 7]}}, [
		"request.scopes must be a non-empty array of strings",
	])
}

test_missing_request_denied if {
	denied_with(fixture, {"claims": main_claims}, [
		"request must be an object",
		"request.scopes must be a non-empty array of strings",
	])
	d := decide_input({"claims": main_claims})
	d.ttl == 900
	d.audience == "https://deploy.example"
}

test_missing_claims_denied if {
	denied_with(fixture, {"request": {"scopes": ["read:logs"]}}, [
		"claims must be an object",
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"ref\" is missing",
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"repository\" is missing",
		"no grant matches the token's claims",
		"scope \"read:logs\" is not granted to a token without a repository claim by any grant",
	])
}

test_garbage_input_denied if {
	every inp in ["garbage", 1, null, [], {}, {"claims": "x", "request": "y"}] {
		denied_with(fixture, inp, [
			"claims must be an object",
			"no grant matches the token's claims",
			"request must be an object",
			"request.scopes must be a non-empty array of strings",
		])
	}
}

test_missing_policy_data_denied if {
	d := decide_with({}, main_claims, {"scopes": ["read:logs"]})
	d == {
		"allow": false,
		"scopes": [],
		"ttl": 0,
		"audience": "",
		"reasons": [
			"no audience was requested and the policy lists none",
			"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
			"policy data: ttl.default must be a positive integer",
			"policy data: ttl.max must be a positive integer",
			"scope \"read:logs\" is not defined by the policy",
			"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
		],
	}
}

# ---------------------------------------------------------------------------
# Decision invariants
# ---------------------------------------------------------------------------

sample_inputs := [
	{"claims": main_claims, "request": {"scopes": ["deploy:canary"]}},
	{"claims": main_claims, "request": {"scopes": ["deploy:prod", "write:staging", "x"], "ttl": 99999, "audience": "z"}},
	{"claims": prod_claims, "request": {"scopes": ["deploy:prod", "deploy:canary", "read:logs"]}},
	{"claims": {}, "request": {"scopes": ["read:logs"]}},
	{"claims": main_claims, "request": {"scopes": []}},
	"garbage",
]

test_decision_shape_and_invariants if {
	every inp in sample_inputs {
		d := decide_input(inp)
		object.keys(d) == {"allow", "scopes", "ttl", "audience", "reasons"}
		is_boolean(d.allow)
		is_array(d.scopes)
		is_number(d.ttl)
		is_string(d.audience)
		is_array(d.reasons)
		d.reasons == sort(d.reasons)
		d.scopes == sort({s | some s in d.scopes})
		allow_consistent(d)
	}
}

# allowed: scopes granted, no reasons; denied: no scopes, at least one reason
allow_consistent(d) if {
	d.allow == true
	count(d.scopes) > 0
	d.reasons == []
}

allow_consistent(d) if {
	d.allow == false
	d.scopes == []
	count(d.reasons) > 0
}

test_default_deny if {
	not mint.allow with input as {}
	mint.allow == false with input as {}
}
