package ztmint.mint_test

# Unit tests for policies/mint.rego: `opa test -v policies/`.
#
# The tests never depend on what `opa test` happens to load from the
# directory: every decision is computed with the data document replaced,
# sub-path by sub-path, by a fixture (`with data.ztmint.ttl as ...` etc.).
# `fixture` is a copy of policies/data.json (the docs/architecture.md example);
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

# `require` is optional: a fixture without it gets {} (no requirement), which
# decides like an absent `require` (see test_absent_require_is_no_requirement).
decide_input_with(d, inp) := result if {
	result := mint.decision with input as inp
		with data.ztmint.ttl as object.get(d, "ttl", null)
		with data.ztmint.scopes as object.get(d, "scopes", null)
		with data.ztmint.audiences as object.get(d, "audiences", null)
		with data.ztmint.grants as object.get(d, "grants", null)
		with data.ztmint.require as object.get(d, "require", {})
}

# Like decide_input_with, but data.ztmint.require stays undefined.
decide_without_require(d, inp) := result if {
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

test_regex_escape if {
	mint.regex_escape("a?[b]{c}\\.+()|^$") == "a\\?\\[b\\]\\{c\\}\\\\\\.\\+\\(\\)\\|\\^\\$"
	mint.segment_regex("x(y)*") == "^x\\(y\\)[^/]*$"
}

test_glob_treats_regex_metacharacters_literally if {
	mint.value_matches("x(y)*", "x(y)z")
	not mint.value_matches("x(y)*", "xy")
	mint.value_matches("a$*", "a$b")
	mint.value_matches("a.b*", "a.bc")
	not mint.value_matches("a.b*", "axbc")
	mint.value_matches("a|b*", "a|bc")
	not mint.value_matches("a|b*", "bc")
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
	reason := "request.ttl must be a positive integer number of seconds, at most 2147483647"
	every ttl in [0, -60, 1.5, "900", true, [900], {"s": 900}, 2147483648, 1e300] {
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
# event_name: pull_request_target only through a grant that names it exactly
# ---------------------------------------------------------------------------

prt_claims := object.union(main_claims, {"event_name": "pull_request_target"})

# A grant that names pull_request_target exactly.
prt_grant := {
	"name": "webapp-prt-logs",
	"match": {"repository": "acme/webapp", "event_name": "pull_request_target"},
	"scopes": ["read:logs"], "max_ttl": 300,
}

prt_reason := "event \"pull_request_target\" is refused unless a grant names it explicitly"

test_pull_request_target_refused_by_grant_that_does_not_name_it if {
	# webapp-main matches every other claim of the token
	denied_with(fixture, {"claims": prt_claims, "request": {"scopes": ["deploy:canary"]}}, [
		prt_reason,
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: it does not name event \"pull_request_target\" explicitly",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_pull_request_target_refused_by_event_glob if {
	# pattern -> another event it matches
	patterns := {"*": "push", "pull_request*": "pull_request", "*_target": "x_target", "pull_request_*": "pull_request_review"}
	every pattern, other in patterns {
		grant := {"name": "any-event", "match": {"repository": "acme/webapp", "event_name": pattern}, "scopes": ["read:logs"]}
		data_ := object.union(fixture, {"grants": [grant]})
		denied_with(data_, {"claims": prt_claims, "request": {"scopes": ["read:logs"]}}, [
			prt_reason,
			"grant \"any-event\", which grants \"read:logs\", does not match: it does not name event \"pull_request_target\" explicitly",
			"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
			"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
		])

		# the same glob grant still matches other events
		decide_with(data_, object.union(main_claims, {"event_name": other}), {"scopes": ["read:logs"]}).allow
	}
}

test_pull_request_target_allowed_by_grant_that_names_it if {
	data_ := object.union(fixture, {"grants": array.concat(fixture.grants, [prt_grant])})
	decide_with(data_, prt_claims, {"scopes": ["read:logs"]}) == {
		"allow": true,
		"scopes": ["read:logs"],
		"ttl": 300,
		"audience": "https://deploy.example",
		"reasons": [],
	}
}

test_pull_request_target_grant_does_not_apply_to_other_events if {
	data_ := object.union(fixture, {"grants": [prt_grant]})
	denied_with(data_, {"claims": main_claims, "request": {"scopes": ["read:logs"]}}, [
		"grant \"webapp-prt-logs\", which grants \"read:logs\", does not match: claim \"event_name\" is \"push\", not \"pull_request_target\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_pull_request_target_only_gets_what_the_naming_grant_gives if {
	# read:logs through the grant that names the event; deploy:canary is refused
	data_ := object.union(fixture, {"grants": array.concat(fixture.grants, [prt_grant])})
	denied_with(data_, {"claims": prt_claims, "request": {"scopes": ["read:logs", "deploy:canary"]}}, [
		prt_reason,
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: it does not name event \"pull_request_target\" explicitly",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_pull_request_target_refusal_listed_with_other_mismatches if {
	claims := object.union(prt_claims, {"ref": "refs/heads/dev"})
	denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		prt_reason,
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"ref\" is \"refs/heads/dev\", not \"refs/heads/main\"",
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: it does not name event \"pull_request_target\" explicitly",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/dev\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_pull_request_target_reason_needs_a_grant_set_aside_by_the_rule if {
	# the grant naming the event fails on another claim: no event reason
	claims := object.union(prt_claims, {"repository": "acme/other"})
	data_ := object.union(fixture, {"grants": [prt_grant]})
	denied_with(data_, {"claims": claims, "request": {"scopes": ["read:logs"]}}, [
		"grant \"webapp-prt-logs\", which grants \"read:logs\", does not match: claim \"repository\" is \"acme/other\", not \"acme/webapp\"",
		"no grant matches repository \"acme/other\", ref \"refs/heads/main\"",
		"scope \"read:logs\" is not granted to repository \"acme/other\" by any grant",
	])

	# no grant lists the scope at all: no event reason
	denied_with(fixture, {"claims": prt_claims, "request": {"scopes": ["write:staging"]}}, [
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"write:staging\" is not granted to repository \"acme/webapp\" by any grant",
	])

	# a grant without match conditions never matches anyway: no event reason
	empty := object.union(fixture, {"grants": [{"name": "everyone", "match": {}, "scopes": ["read:logs"]}]})
	denied_with(empty, {"claims": prt_claims, "request": {"scopes": ["read:logs"]}}, [
		"grant \"everyone\", which grants \"read:logs\", does not match: it has no match conditions",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_grant_set_aside_by_event_rule_does_not_cap_ttl if {
	# webapp-prt-logs (max_ttl 300) is used; webapp-main (1800) is set aside
	data_ := object.union(fixture, {"grants": array.concat(fixture.grants, [prt_grant])})
	denied_with(data_, {"claims": prt_claims, "request": {"scopes": ["read:logs"], "ttl": 301}}, [
		"ttl 301 exceeds the maximum 300 of grant \"webapp-prt-logs\"",
	])
}

test_event_refused if {
	not mint.event_refused({"match": {"repository": "acme/webapp"}}) with input as {"claims": main_claims}
	mint.event_refused({"match": {"repository": "acme/webapp"}}) with input as {"claims": prt_claims}
	mint.event_refused({"match": {"event_name": "*"}}) with input as {"claims": prt_claims}
	mint.event_refused({"match": "pull_request_target"}) with input as {"claims": prt_claims}
	not mint.event_refused({"match": {"event_name": "pull_request_target"}}) with input as {"claims": prt_claims}
	not mint.event_refused({"match": {}}) with input as {"claims": {"event_name": ["pull_request_target"]}}
	not mint.event_refused({"match": {}}) with input as {"claims": {"event_name": "Pull_Request_Target"}}
}

# ---------------------------------------------------------------------------
# Claims security teams pin through `match`: ref_type, runner_environment,
# job_workflow_ref, environment
# ---------------------------------------------------------------------------

tag_claims := object.union(main_claims, {
	"ref": "refs/tags/v1.2.3",
	"ref_type": "tag",
	"sub": "repo:acme/webapp:ref:refs/tags/v1.2.3",
	"job_workflow_ref": "acme/webapp/.github/workflows/release.yml@refs/tags/v1.2.3",
})

release_fixture := object.union(fixture, {"grants": [{
	"name": "webapp-release-tags",
	"match": {"repository": "acme/webapp", "ref_type": "tag", "ref": "refs/tags/v*"},
	"scopes": ["write:staging"],
}]})

test_ref_type_tag_grant_allows_tag if {
	decide_with(release_fixture, tag_claims, {"scopes": ["write:staging"]}).allow
}

test_ref_type_tag_grant_denies_branch if {
	# a branch named like a tag pattern is still a branch
	claims := object.union(main_claims, {"ref_type": "branch", "ref": "refs/heads/v1.2.3"})
	denied_with(release_fixture, {"claims": claims, "request": {"scopes": ["write:staging"]}}, [
		"grant \"webapp-release-tags\", which grants \"write:staging\", does not match: claim \"ref\" is \"refs/heads/v1.2.3\", not \"refs/tags/v*\"",
		"grant \"webapp-release-tags\", which grants \"write:staging\", does not match: claim \"ref_type\" is \"branch\", not \"tag\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/v1.2.3\"",
		"scope \"write:staging\" is not granted to repository \"acme/webapp\" by any grant",
	])

	# ref_type alone decides when the ref matches
	forged := object.union(tag_claims, {"ref_type": "branch"})
	denied_with(release_fixture, {"claims": forged, "request": {"scopes": ["write:staging"]}}, [
		"grant \"webapp-release-tags\", which grants \"write:staging\", does not match: claim \"ref_type\" is \"branch\", not \"tag\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/tags/v1.2.3\"",
		"scope \"write:staging\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_ref_type_branch_grant_denies_tag if {
	grant := {"name": "branches", "match": {"repository": "acme/webapp", "ref_type": "branch"}, "scopes": ["read:logs"]}
	data_ := object.union(fixture, {"grants": [grant]})
	decide_with(data_, object.union(main_claims, {"ref_type": "branch"}), {"scopes": ["read:logs"]}).allow
	denied_with(data_, {"claims": tag_claims, "request": {"scopes": ["read:logs"]}}, [
		"grant \"branches\", which grants \"read:logs\", does not match: claim \"ref_type\" is \"tag\", not \"branch\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/tags/v1.2.3\"",
		"scope \"read:logs\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

hosted_fixture := object.union(fixture, {"grants": [{
	"name": "hosted-only",
	"match": {"repository": "acme/webapp", "runner_environment": "github-hosted"},
	"scopes": ["deploy:canary"],
}]})

test_runner_environment_github_hosted_grant_allows_github_hosted if {
	decide_with(hosted_fixture, object.union(main_claims, {"runner_environment": "github-hosted"}), {"scopes": ["deploy:canary"]}).allow
}

test_runner_environment_github_hosted_grant_denies_self_hosted if {
	claims := object.union(main_claims, {"runner_environment": "self-hosted"})
	denied_with(hosted_fixture, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"hosted-only\", which grants \"deploy:canary\", does not match: claim \"runner_environment\" is \"self-hosted\", not \"github-hosted\"",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])

	# older tokens without the claim do not match either
	denied_with(hosted_fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"hosted-only\", which grants \"deploy:canary\", does not match: claim \"runner_environment\" is missing",
		"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
	])
}

test_job_workflow_ref_pin_allows_pinned_workflow_at_pinned_ref if {
	decide(prod_claims, {"scopes": ["deploy:prod"]}).allow
}

test_job_workflow_ref_pin_denies_same_workflow_at_another_ref if {
	every ref in ["refs/heads/dev", "refs/heads/main2", "refs/tags/v1", "refs/pull/1/merge", "0123456789abcdef0123456789abcdef01234567"] {
		jwr := concat("", ["acme/webapp/.github/workflows/deploy.yml@", ref])
		claims := object.union(prod_claims, {"job_workflow_ref": jwr})
		denied_with(fixture, {"claims": claims, "request": {"scopes": ["deploy:prod"]}}, [
			concat("", ["grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"job_workflow_ref\" is \"", jwr, "\", not \"acme/webapp/.github/workflows/deploy.yml@refs/heads/main\""]),
			"scope \"deploy:prod\" is not granted to repository \"acme/webapp\" by any grant",
		])
	}
}

test_job_workflow_ref_pin_denies_other_workflow_and_other_repository if {
	every jwr in [
		"acme/webapp/.github/workflows/deploy2.yml@refs/heads/main",
		"acme/fork/.github/workflows/deploy.yml@refs/heads/main",
		"evil/webapp/.github/workflows/deploy.yml@refs/heads/main",
	] {
		claims := object.union(prod_claims, {"job_workflow_ref": jwr})
		not decide(claims, {"scopes": ["deploy:prod"]}).allow
	}
}

test_job_workflow_ref_glob_matches_within_segments if {
	# `@` is no separator: "deploy.yml@refs" is one segment
	mint.value_matches("acme/*/.github/workflows/deploy.yml@refs/heads/main", "acme/webapp/.github/workflows/deploy.yml@refs/heads/main")
	mint.value_matches("acme/shared/.github/workflows/deploy.yml@refs/tags/v*", "acme/shared/.github/workflows/deploy.yml@refs/tags/v2.1.0")
	mint.value_matches("acme/shared/.github/workflows/*@refs/heads/main", "acme/shared/.github/workflows/deploy.yml@refs/heads/main")
	mint.value_matches("acme/shared/.github/workflows/deploy.yml@*", "acme/shared/.github/workflows/deploy.yml@0123456789abcdef0123456789abcdef01234567")

	# `*` never crosses a `/`
	not mint.value_matches("acme/shared/.github/workflows/deploy.yml@*", "acme/shared/.github/workflows/deploy.yml@refs/heads/main")
	not mint.value_matches("acme/shared/.github/workflows/*", "acme/shared/.github/workflows/deploy.yml@refs/heads/main")
	not mint.value_matches("acme/shared/.github/workflows/deploy.yml@refs/heads/*", "acme/shared/.github/workflows/deploy.yml@refs/heads/feature/x")
	not mint.value_matches("acme/*/.github/workflows/deploy.yml@refs/heads/main", "acme/a/b/.github/workflows/deploy.yml@refs/heads/main")
}

test_job_workflow_ref_reusable_workflow_grant if {
	grant := {
		"name": "shared-deploy",
		"match": {
			"repository_owner": "acme",
			"job_workflow_ref": "acme/shared/.github/workflows/deploy.yml@refs/tags/v*",
		},
		"scopes": ["deploy:canary"],
	}
	data_ := object.union(fixture, {"grants": [grant]})
	caller := object.union(main_claims, {
		"repository": "acme/api",
		"job_workflow_ref": "acme/shared/.github/workflows/deploy.yml@refs/tags/v3",
	})
	decide_with(data_, caller, {"scopes": ["deploy:canary"]}).allow
	unpinned := object.union(caller, {"job_workflow_ref": "acme/shared/.github/workflows/deploy.yml@refs/heads/main"})
	denied_with(data_, {"claims": unpinned, "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"shared-deploy\", which grants \"deploy:canary\", does not match: claim \"job_workflow_ref\" is \"acme/shared/.github/workflows/deploy.yml@refs/heads/main\", not \"acme/shared/.github/workflows/deploy.yml@refs/tags/v*\"",
		"no grant matches repository \"acme/api\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/api\" by any grant",
	])
}

test_environment_pin_denies_missing_and_other_environment if {
	no_env := object.remove(prod_claims, ["environment"])
	denied_with(fixture, {"claims": no_env, "request": {"scopes": ["deploy:prod"]}}, [
		"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"environment\" is missing",
		"scope \"deploy:prod\" is not granted to repository \"acme/webapp\" by any grant",
	])
	every env in ["Production", "production-eu", "staging", ""] {
		not decide(object.union(prod_claims, {"environment": env}), {"scopes": ["deploy:prod"]}).allow
	}
}

test_environment_glob if {
	grant := {"name": "prod-regions", "match": {"repository": "acme/webapp", "environment": "production-*"}, "scopes": ["deploy:prod"]}
	data_ := object.union(fixture, {"grants": [grant]})
	decide_with(data_, object.union(prod_claims, {"environment": "production-eu"}), {"scopes": ["deploy:prod"]}).allow
	not decide_with(data_, prod_claims, {"scopes": ["deploy:prod"]}).allow
}

# ---------------------------------------------------------------------------
# require: policy-wide claim requirements
# ---------------------------------------------------------------------------

require_hosted := object.union(fixture, {"require": {"runner_environment": "github-hosted"}})

hosted_main := object.union(main_claims, {"runner_environment": "github-hosted"})

test_absent_require_is_no_requirement if {
	d := decide_without_require(fixture, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}})
	d == decide(main_claims, {"scopes": ["deploy:canary"]})
	d.allow
	decide_with(object.union(fixture, {"require": {}}), main_claims, {"scopes": ["deploy:canary"]}).allow
}

test_require_met_allows if {
	decide_with(require_hosted, hosted_main, {"scopes": ["deploy:canary"]}) == {
		"allow": true,
		"scopes": ["deploy:canary"],
		"ttl": 900,
		"audience": "https://deploy.example",
		"reasons": [],
	}
}

test_require_unmet_denies_although_a_grant_matches if {
	claims := object.union(main_claims, {"runner_environment": "self-hosted"})
	d := decide_with(require_hosted, claims, {"scopes": ["deploy:canary"]})
	d == {
		"allow": false,
		"scopes": [],
		"ttl": 900,
		"audience": "https://deploy.example",
		"reasons": ["policy requirement not met: claim \"runner_environment\" is \"self-hosted\", not \"github-hosted\""],
	}
	denied_with(require_hosted, {"claims": main_claims, "request": {"scopes": ["deploy:canary"]}}, [
		"policy requirement not met: claim \"runner_environment\" is missing",
	])
}

test_each_unmet_requirement_is_its_own_reason if {
	data_ := object.union(fixture, {"require": {
		"runner_environment": "github-hosted",
		"repository_owner": "acme",
		"job_workflow_ref": "acme/*/.github/workflows/*@refs/heads/main",
		"ref_type": "branch",
	}})
	claims := object.union(main_claims, {
		"runner_environment": "self-hosted",
		"job_workflow_ref": "acme/webapp/.github/workflows/ci.yml@refs/heads/dev",
	})
	denied_with(data_, {"claims": claims, "request": {"scopes": ["deploy:canary"]}}, [
		"policy requirement not met: claim \"job_workflow_ref\" is \"acme/webapp/.github/workflows/ci.yml@refs/heads/dev\", not \"acme/*/.github/workflows/*@refs/heads/main\"",
		"policy requirement not met: claim \"ref_type\" is missing",
		"policy requirement not met: claim \"runner_environment\" is \"self-hosted\", not \"github-hosted\"",
	])
	met := object.union(main_claims, {"runner_environment": "github-hosted", "ref_type": "branch"})
	decide_with(data_, met, {"scopes": ["deploy:canary"]}).allow
}

test_require_glob_within_segments if {
	data_ := object.union(fixture, {"require": {"repository": "acme/*"}})
	decide_with(data_, main_claims, {"scopes": ["deploy:canary"]}).allow
	claims := object.union(main_claims, {"repository": "acme/webapp/x"})
	d := decide_with(data_, claims, {"scopes": ["deploy:canary"]})
	not d.allow
	"policy requirement not met: claim \"repository\" is \"acme/webapp/x\", not \"acme/*\"" in d.reasons
}

test_require_does_not_grant if {
	# meeting every requirement grants nothing by itself
	data_ := object.union(fixture, {"require": {"repository": "acme/other"}})
	denied_with(data_, {"claims": object.union(main_claims, {"repository": "acme/other"}), "request": {"scopes": ["deploy:canary"]}}, [
		"grant \"webapp-main\", which grants \"deploy:canary\", does not match: claim \"repository\" is \"acme/other\", not \"acme/webapp\"",
		"no grant matches repository \"acme/other\", ref \"refs/heads/main\"",
		"scope \"deploy:canary\" is not granted to repository \"acme/other\" by any grant",
	])
}

test_require_event_name_glob_does_not_bypass_pull_request_target_rule if {
	data_ := object.union(fixture, {"require": {"event_name": "*"}})
	d := decide_with(data_, prt_claims, {"scopes": ["deploy:canary"]})
	not d.allow
	prt_reason in d.reasons
}

test_require_with_non_string_value_denies if {
	data_ := object.union(fixture, {"require": {"runner_environment": ["github-hosted"]}})
	denied_with(data_, {"claims": hosted_main, "request": {"scopes": ["deploy:canary"]}}, [
		"policy requirement not met: claim \"runner_environment\" has an invalid pattern",
	])
}

test_require_not_an_object_denies if {
	every broken in ["runner_environment=github-hosted", [], [{"runner_environment": "github-hosted"}], null, false, 0] {
		data_ := object.union(fixture, {"require": broken})
		denied_with(data_, {"claims": hosted_main, "request": {"scopes": ["deploy:canary"]}}, [
			"policy data: require must be an object",
		])
	}
}

test_require_applies_to_garbage_claims if {
	denied_with(require_hosted, {"claims": "x", "request": {"scopes": ["read:logs"]}}, [
		"claims must be an object",
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"ref\" is missing",
		"grant \"webapp-main\", which grants \"read:logs\", does not match: claim \"repository\" is missing",
		"no grant matches the token's claims",
		"policy requirement not met: claim \"runner_environment\" is missing",
		"scope \"read:logs\" is not granted to a token without a repository claim by any grant",
	])
}

# ---------------------------------------------------------------------------
# Every unmet condition at once: all reasons, sorted, deterministic
# ---------------------------------------------------------------------------

test_every_reason_is_listed_sorted if {
	claims := object.union(prt_claims, {"runner_environment": "self-hosted"})
	request := {"scopes": ["deploy:prod", "deploy:canary", "deploy:moon"], "ttl": 7200, "audience": "https://evil.example"}
	d := decide_with(require_hosted, claims, request)
	d == {
		"allow": false,
		"scopes": [],
		"ttl": 7200,
		"audience": "https://evil.example",
		"reasons": [
			"audience \"https://evil.example\" is not allowed",
			prt_reason,
			"grant \"webapp-main\", which grants \"deploy:canary\", does not match: it does not name event \"pull_request_target\" explicitly",
			"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"environment\" is missing",
			"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: claim \"job_workflow_ref\" is \"acme/webapp/.github/workflows/ci.yml@refs/heads/main\", not \"acme/webapp/.github/workflows/deploy.yml@refs/heads/main\"",
			"grant \"webapp-prod\", which grants \"deploy:prod\", does not match: it does not name event \"pull_request_target\" explicitly",
			"no grant matches repository \"acme/webapp\", ref \"refs/heads/main\"",
			"policy requirement not met: claim \"runner_environment\" is \"self-hosted\", not \"github-hosted\"",
			"scope \"deploy:canary\" is not granted to repository \"acme/webapp\" by any grant",
			"scope \"deploy:moon\" is not defined by the policy",
			"scope \"deploy:moon\" is not granted to repository \"acme/webapp\" by any grant",
			"scope \"deploy:prod\" is not granted to repository \"acme/webapp\" by any grant",
			"ttl 7200 exceeds the policy maximum 3600",
		],
	}

	# the same answer whatever the order of the requested scopes
	reordered := object.union(request, {"scopes": ["deploy:moon", "deploy:canary", "deploy:prod", "deploy:moon"]})
	decide_with(require_hosted, claims, reordered) == d
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
	{"claims": prt_claims, "request": {"scopes": ["deploy:canary"]}},
	{"claims": object.union(prod_claims, {"job_workflow_ref": "acme/webapp/.github/workflows/deploy.yml@refs/heads/dev"}), "request": {"scopes": ["deploy:prod"]}},
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
