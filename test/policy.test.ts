// Tests of the compiled Rego policy (policies/wasm/mint.wasm) as the coordinator
// and the signers load it: through @open-policy-agent/opa-wasm, with
// policies/data.json set as data.ztmint. The Rego unit tests themselves run with
// `opa test` (scripts/test-policy.sh).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPolicy, type LoadedPolicy } from "@open-policy-agent/opa-wasm";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REGO = join(ROOT, "policies", "mint.rego");
const WASM = join(ROOT, "policies", "wasm", "mint.wasm");
const SOURCES = join(ROOT, "policies", "wasm", "SOURCES.sha256");
const DATA = join(ROOT, "policies", "data.json");
const SCHEMA = join(ROOT, "policies", "data.schema.json");
const OPA = join(ROOT, ".opa", "bin", "opa");
const ENTRYPOINT = "ztmint/mint/decision";

interface Decision {
  allow: boolean;
  scopes: string[];
  ttl: number;
  audience: string;
  reasons: string[];
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));

const mainClaims = {
  iss: "https://token.actions.githubusercontent.com",
  aud: "https://coordinator.example",
  sub: "repo:acme/webapp:ref:refs/heads/main",
  repository: "acme/webapp",
  repository_owner: "acme",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
  event_name: "push",
  workflow_ref: "acme/webapp/.github/workflows/ci.yml@refs/heads/main",
  job_workflow_ref: "acme/webapp/.github/workflows/ci.yml@refs/heads/main",
  run_id: "42",
  run_attempt: "1",
  actor: "octocat",
};

const prodClaims = {
  ...mainClaims,
  sub: "repo:acme/webapp:environment:production",
  environment: "production",
  workflow_ref: "acme/webapp/.github/workflows/deploy.yml@refs/heads/main",
  job_workflow_ref: "acme/webapp/.github/workflows/deploy.yml@refs/heads/main",
};

const globData = {
  ttl: { default: 900, max: 3600 },
  scopes: ["read:logs"],
  audiences: ["https://deploy.example"],
  grants: [{ name: "acme-any", match: { repository: "acme/*" }, scopes: ["read:logs"] }],
};

async function load(data: unknown): Promise<LoadedPolicy> {
  const policy = await loadPolicy(readFileSync(WASM));
  policy.setData({ ztmint: data });
  return policy;
}

function decide(policy: LoadedPolicy, input: unknown): Decision {
  // opa-wasm returns the result set: [{ result: <value of data.ztmint.mint.decision> }]
  const resultSet = policy.evaluate(input, ENTRYPOINT) as Array<{ result: Decision }>;
  expect(resultSet).toHaveLength(1);
  return resultSet[0]!.result;
}

describe("policies/wasm/mint.wasm", () => {
  it("is built from the current policies/mint.rego", () => {
    const recorded = readFileSync(SOURCES, "utf8").trim().split(/\s+/);
    expect(recorded[1], "SOURCES.sha256 names the policy source").toBe("policies/mint.rego");
    const current = sha256(readFileSync(REGO));
    if (recorded[0] !== current) {
      throw new Error(
        "policies/wasm/mint.wasm is stale (policies/mint.rego changed since it was built): run npm run policy:build",
      );
    }
  });

  it("exports only the decision entrypoint and needs no host builtins", async () => {
    const policy = await load(readJson(DATA));
    expect(policy.entrypoints).toEqual({ [ENTRYPOINT]: 0 });
    const module = await WebAssembly.compile(readFileSync(WASM));
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    expect(imports.sort()).toEqual(
      ["env.memory", "env.opa_abort", "env.opa_builtin0", "env.opa_builtin1", "env.opa_builtin2", "env.opa_builtin3", "env.opa_builtin4"].sort(),
    );
  });
});

describe("mint policy with policies/data.json", () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    policy = await load(readJson(DATA));
  });

  it("returns the result set shape [{ result: decision }]", () => {
    const resultSet = policy.evaluate({ claims: mainClaims, request: { scopes: ["deploy:canary"] } }, ENTRYPOINT);
    expect(resultSet).toEqual([
      {
        result: {
          allow: true,
          scopes: ["deploy:canary"],
          ttl: 900,
          audience: "https://deploy.example",
          reasons: [],
        },
      },
    ]);
  });

  it("allows webapp main to get deploy:canary with the default ttl and audience", () => {
    expect(decide(policy, { claims: mainClaims, request: { scopes: ["deploy:canary"] } })).toEqual({
      allow: true,
      scopes: ["deploy:canary"],
      ttl: 900,
      audience: "https://deploy.example",
      reasons: [],
    });
  });

  it("sorts and deduplicates granted scopes, and honours an explicit ttl and audience", () => {
    const d = decide(policy, {
      claims: mainClaims,
      request: { scopes: ["read:logs", "deploy:canary", "read:logs"], ttl: 1800, audience: "https://deploy.example" },
    });
    expect(d).toEqual({
      allow: true,
      scopes: ["deploy:canary", "read:logs"],
      ttl: 1800,
      audience: "https://deploy.example",
      reasons: [],
    });
  });

  it("denies deploy:prod from the main branch, with reasons", () => {
    const d = decide(policy, { claims: mainClaims, request: { scopes: ["deploy:canary", "deploy:prod"] } });
    expect(d.allow).toBe(false);
    expect(d.scopes).toEqual([]);
    expect(d.reasons).toEqual([
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "environment" is missing',
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "job_workflow_ref" is "acme/webapp/.github/workflows/ci.yml@refs/heads/main", not "acme/webapp/.github/workflows/deploy.yml@refs/heads/main"',
      'scope "deploy:prod" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it("allows deploy:prod from the production environment, capped by the smallest max_ttl", () => {
    const request = { scopes: ["deploy:prod", "deploy:canary"] };
    expect(decide(policy, { claims: prodClaims, request })).toMatchObject({ allow: true, ttl: 900 });
    expect(decide(policy, { claims: prodClaims, request: { ...request, ttl: 1800 } })).toMatchObject({
      allow: false,
      ttl: 1800,
      reasons: ['ttl 1800 exceeds the maximum 900 of grant "webapp-prod"'],
    });
  });

  it("denies a ttl above the policy maximum and an unlisted audience", () => {
    const d = decide(policy, {
      claims: mainClaims,
      request: { scopes: ["deploy:canary"], ttl: 7200, audience: "https://evil.example" },
    });
    expect(d).toEqual({
      allow: false,
      scopes: [],
      ttl: 7200,
      audience: "https://evil.example",
      reasons: [
        'audience "https://evil.example" is not allowed',
        'ttl 7200 exceeds the maximum 1800 of grant "webapp-main"',
        "ttl 7200 exceeds the policy maximum 3600",
      ],
    });
  });

  it("denies unknown scopes", () => {
    expect(decide(policy, { claims: mainClaims, request: { scopes: ["deploy:moon"] } }).reasons).toEqual([
      'scope "deploy:moon" is not defined by the policy',
      'scope "deploy:moon" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it.each([
    ["no input", undefined],
    ["null", null],
    ["a string", "garbage"],
    ["no request", { claims: mainClaims }],
    ["scopes not an array", { claims: mainClaims, request: { scopes: "deploy:canary" } }],
    ["empty scopes", { claims: mainClaims, request: { scopes: [] } }],
    ["non-string scope", { claims: mainClaims, request: { scopes: [1] } }],
    ["string ttl", { claims: mainClaims, request: { scopes: ["deploy:canary"], ttl: "900" } }],
    ["fractional ttl", { claims: mainClaims, request: { scopes: ["deploy:canary"], ttl: 1.5 } }],
    ["no claims", { request: { scopes: ["deploy:canary"] } }],
  ])("always decides, and denies, for garbage input: %s", (_name, input) => {
    const d = decide(policy, input);
    expect(d.allow).toBe(false);
    expect(d.scopes).toEqual([]);
    expect(d.reasons.length).toBeGreaterThan(0);
    expect(typeof d.ttl).toBe("number");
    expect(typeof d.audience).toBe("string");
    expect([...d.reasons].sort()).toEqual(d.reasons);
  });
});

describe("mint policy globs", () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    policy = await load(globData);
  });

  it.each([
    ["acme/x", true],
    ["acme/webapp", true],
    ["acme/x/y", false],
    ["acme", false],
    ["acme-corp/x", false],
    ["evil/acme/x", false],
  ])("acme/* against repository %s: allow=%s", (repository, allow) => {
    expect(decide(policy, { claims: { repository }, request: { scopes: ["read:logs"] } }).allow).toBe(allow);
  });

  it("never matches a missing claim", () => {
    const d = decide(policy, { claims: { ref: "refs/heads/main" }, request: { scopes: ["read:logs"] } });
    expect(d.allow).toBe(false);
    expect(d.reasons).toContain('no grant matches ref "refs/heads/main"');
  });

  it("treats glob metacharacters other than * literally", async () => {
    const literal = await load({
      ...globData,
      grants: [{ name: "lit", match: { repository: "acme/a?c[x]{y,z}\\*" }, scopes: ["read:logs"] }],
    });
    const allow = (repository: string) =>
      decide(literal, { claims: { repository }, request: { scopes: ["read:logs"] } }).allow;
    expect(allow("acme/a?c[x]{y,z}\\tail")).toBe(true);
    expect(allow("acme/abcxy\\tail")).toBe(false);
    expect(allow("acme/abc[x]{y,z}\\tail")).toBe(false);
  });
});

describe("policies/data.schema.json", () => {
  it("accepts policies/data.json and rejects broken data", async () => {
    let Ajv2020: (new (opts?: object) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown } }) | undefined;
    try {
      // ajv is not a direct dependency (fastify brings it); skip if it is absent
      const mod = (await import("ajv/dist/2020.js")) as { default: { default?: unknown } };
      Ajv2020 = (mod.default.default ?? mod.default) as typeof Ajv2020;
    } catch {
      return;
    }
    const validate = new Ajv2020!({ strict: true, allErrors: true }).compile(readJson(SCHEMA));
    expect(validate(readJson(DATA)), JSON.stringify(validate.errors)).toBe(true);
    const data = readJson(DATA) as typeof globData;
    expect(validate({ ...data, ttl: { default: 0, max: 3600 } })).toBe(false);
    expect(validate({ ...data, scopes: ["has space"] })).toBe(false);
    expect(validate({ ...data, mint: {} })).toBe(false);
    expect(validate({ ...data, grants: [{ name: "x", match: {}, scopes: ["read:logs"] }] })).toBe(false);
  });
});

// Needs the pinned OPA in .opa/bin (scripts/install-opa.sh); skipped without it.
const pinnedVersion = /OPA_VERSION="\$\{OPA_VERSION:-v([0-9.]+)\}"/.exec(
  readFileSync(join(ROOT, "scripts", "install-opa.sh"), "utf8"),
)?.[1];
const installedVersion = existsSync(OPA)
  ? /^Version: *(\S+)/m.exec(execFileSync(OPA, ["version"], { encoding: "utf8" }))?.[1]
  : undefined;
const haveOpa = pinnedVersion !== undefined && installedVersion === pinnedVersion;

describe.skipIf(!haveOpa)(`with OPA ${pinnedVersion} from .opa/bin`, () => {
  it("rebuilds a byte-identical policies/wasm/mint.wasm", () => {
    const out = mkdtempSync(join(tmpdir(), "ztmint-policy-"));
    try {
      execFileSync(join(ROOT, "scripts", "build-policy.sh"), [out], { cwd: ROOT, stdio: "pipe" });
      expect(readFileSync(join(out, "SOURCES.sha256"), "utf8")).toBe(readFileSync(SOURCES, "utf8"));
      const rebuilt = readFileSync(join(out, "mint.wasm"));
      if (!rebuilt.equals(readFileSync(WASM))) {
        throw new Error("policies/wasm/mint.wasm differs from a fresh build: run npm run policy:build");
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it("gives the same decisions as opa eval", async () => {
    const data = readJson(DATA);
    const policy = await load(data);
    const inputs: unknown[] = [
      { claims: mainClaims, request: { scopes: ["deploy:canary"] } },
      { claims: mainClaims, request: { scopes: ["deploy:prod", "write:staging", "x y"], ttl: 99999, audience: "z" } },
      { claims: prodClaims, request: { scopes: ["deploy:prod", "deploy:canary", "read:logs"], ttl: 900 } },
      { claims: { ...mainClaims, repository: "acme/webapp/x" }, request: { scopes: ["read:logs"] } },
      { claims: {}, request: { scopes: ["read:logs"], audience: 1 } },
      { claims: mainClaims, request: { scopes: [], ttl: -1 } },
      "garbage",
    ];
    const query = `[d | some c in input; d := data.ztmint.mint.decision with input as c]`;
    const out = execFileSync(
      OPA,
      ["eval", "-f", "json", "-I", "-d", "policies/mint.rego", "-d", `ztmint:${DATA}`, query],
      { cwd: ROOT, input: JSON.stringify(inputs), encoding: "utf8" },
    );
    const fromGo = JSON.parse(out).result[0].expressions[0].value as Decision[];
    expect(fromGo).toHaveLength(inputs.length);
    expect(inputs.map((input) => decide(policy, input))).toEqual(fromGo);
  }, 60_000);
});
