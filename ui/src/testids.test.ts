// Keeps TESTIDS.md and the code in step: every id the code sets is documented, and every
// documented id is set somewhere (templates like `${kind}-state` are expanded).
import { describe, expect, test } from "vitest";

import doc from "../TESTIDS.md?raw";
import type { LaunchAction } from "./bindings/LaunchAction";
import type { LaunchStepId } from "./bindings/LaunchStepId";
import { BP_FIELDS, OPT_IN_FIELDS } from "./pages/Architecture/model";
import { ROUTES } from "./routes";
import { allResources } from "./testing/fixtures";

const sources = import.meta.glob(["./**/*.tsx", "!./**/*.test.tsx", "!./testing/**"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;
const code = Object.values(sources).join("\n");

const KINDS = ["aws", "github", "registry", "docker", "kubernetes"];
const PAGES = ROUTES.map((r) => r.id);
/** Every resource the blueprint can have (the opt-in VMs included). */
const RESOURCE_IDS = allResources().map((r) => r.id);
const OPT_INS = OPT_IN_FIELDS.map((f) => f.field);
const FIELDS = BP_FIELDS.map((f) => f.field);
const STAGES = ["checkout", "build", "test", "push", "deploy"];
/** The Launch page's steps, actions and sandbox stand-ins (core::launch, core::sandbox). */
const LAUNCH_STEPS: LaunchStepId[] = ["connect", "project", "infrastructure", "run", "deploy", "open"];
const LAUNCH_ACTIONS: LaunchAction[] = ["useSandbox", "addProject", "plan", "apply", "startRun", "deployLive", "openApp"];
const MAPPED_PARTS = ["EKS", "ECR", "RDS"];
const TEMPLATES: [string, string[]][] = [
  ["<step>", LAUNCH_STEPS],
  ["<action>", LAUNCH_ACTIONS],
  ["<part>", MAPPED_PARTS],
  ["<optin>", OPT_INS],
];
/** Templated ids per resource or per field, as the code writes them. */
const PER_RESOURCE = ["arch-node", "plan-row", "plan-note", "drift-row"];

/** Literal ids in the code: data-testid="x", testId="x", testId: "x", hintTestId: "x". */
function literalIds(): Set<string> {
  const ids = new Set<string>();
  for (const m of code.matchAll(/(?:data-testid|[tT]estId)(?:=|: )"([a-z0-9-]+)"/g)) ids.add(m[1]);
  return ids;
}

/** Ids the code builds from templates, expanded. */
function templateIds(): Set<string> {
  const ids = new Set<string>();
  for (const k of KINDS) for (const suffix of ["state", "identity", "error", "checked-at"]) ids.add(`${k}-${suffix}`);
  for (const k of KINDS) ids.add(`card-${k}`);
  for (const k of ["docker", "kubernetes"]) ids.add(`${k}-check`);
  // The cards people sign in to (Connect/SignInCard.tsx).
  if (code.includes("data-testid={`${kind}-submit`}")) {
    for (const k of ["aws", "github", "registry"]) for (const suffix of ["submit", "check", "disconnect"]) ids.add(`${k}-${suffix}`);
  }
  for (const p of PAGES) {
    ids.add(`nav-${p}`);
    ids.add(`page-${p}`);
  }
  for (const prefix of PER_RESOURCE) {
    if (code.includes(`data-testid={\`${prefix}-\${`)) RESOURCE_IDS.forEach((id) => ids.add(`${prefix}-${id}`));
  }
  if (code.includes("data-testid={`bp-${field}`}")) FIELDS.forEach((f) => ids.add(`bp-${f}`));
  if (code.includes("data-testid={`bp-help-${field}`}")) OPT_INS.forEach((f) => ids.add(`bp-help-${f}`));
  if (code.includes("data-testid={`plan-optin-${o.field}`}")) OPT_INS.forEach((f) => ids.add(`plan-optin-${f}`));
  if (code.includes("data-testid={`stage-node-${")) STAGES.forEach((st) => ids.add(`stage-node-${st}`));
  if (code.includes("data-testid={`pipelines-source-${")) ["slipway", "github", "jenkins"].forEach((s) => ids.add(`pipelines-source-${s}`));
  if (code.includes("data-testid={`launch-step-${step.id}`}")) LAUNCH_STEPS.forEach((st) => ids.add(`launch-step-${st}`));
  if (code.includes("data-testid={`launch-detail-${step.id}`}")) LAUNCH_STEPS.forEach((st) => ids.add(`launch-detail-${st}`));
  if (code.includes("testId={`launch-error-${step.id}`}")) LAUNCH_STEPS.forEach((st) => ids.add(`launch-error-${st}`));
  if (code.includes("data-testid={`launch-action-${a}`}")) LAUNCH_ACTIONS.forEach((a) => ids.add(`launch-action-${a}`));
  if (code.includes("data-testid={`launch-mapping-${m.part}`}")) MAPPED_PARTS.forEach((m) => ids.add(`launch-mapping-${m}`));
  if (code.includes("testId={`launch-mapping-error-${m.part}`}")) MAPPED_PARTS.forEach((m) => ids.add(`launch-mapping-error-${m}`));
  return ids;
}

function documentedIds(): Set<string> {
  const ids = new Set<string>();
  for (const line of doc.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cell = line.split("|")[1];
    for (const m of cell.matchAll(/`([^`]+)`/g)) {
      const id = m[1];
      if (id.includes("<kind>")) KINDS.forEach((k) => ids.add(id.replace("<kind>", k)));
      else if (id.includes("<page>")) PAGES.forEach((p) => ids.add(id.replace("<page>", p)));
      else if (id.includes("<id>")) RESOURCE_IDS.forEach((r) => ids.add(id.replace("<id>", r)));
      else if (id.includes("<field>")) FIELDS.forEach((f) => ids.add(id.replace("<field>", f)));
      else if (id.includes("<stage>")) STAGES.forEach((st) => ids.add(id.replace("<stage>", st)));
      else if (TEMPLATES.some(([t]) => id.includes(t))) {
        const [t, values] = TEMPLATES.find(([t]) => id.includes(t))!;
        values.forEach((v) => ids.add(id.replace(t, v)));
      } else ids.add(id);
    }
  }
  return ids;
}

describe("TESTIDS.md", () => {
  test("every id in the code is documented", () => {
    expect(literalIds().size).toBeGreaterThan(50); // the scan itself works
    const documented = documentedIds();
    const missing = [...literalIds()].filter((id) => !documented.has(id));
    expect(missing).toEqual([]);
  });

  test("every documented id exists in the code", () => {
    const known = new Set([...literalIds(), ...templateIds()]);
    // <kind>-check is templated in SignInCard for aws/github/registry and in DetectedCard for docker/kubernetes.
    const stale = [...documentedIds()].filter((id) => !known.has(id));
    expect(stale).toEqual([]);
  });

  test("error boxes expose what, why and fix", () => {
    expect(code).toContain("data-testid={`${testId}-what`}");
    expect(code).toContain("data-testid={`${testId}-why`}");
    expect(code).toContain("data-testid={`${testId}-fix`}");
  });
});
