// Data for the UI's unit tests of its own view models, written by the Rust side
// (crates/core/tests/ui_fixtures.rs, `cargo test -p slipway-core`) next to the generated types, so
// these tests read the real default blueprint and its resources instead of a TypeScript copy.
import data from "../bindings/fixtures/default-blueprint.json";
import type { Blueprint } from "../bindings/Blueprint";
import type { OptIn } from "../bindings/OptIn";
import type { ResourceSpec } from "../bindings/ResourceSpec";

/** The default blueprint (`Blueprint::default()`). */
export function defaultBlueprint(): Blueprint {
  return structuredClone(data.blueprint) as Blueprint;
}

/** Its 17 resources (`Blueprint::resources()`), every dependency first. */
export function defaultResources(): ResourceSpec[] {
  return structuredClone(data.resources) as ResourceSpec[];
}

/** The resources with the opt-in parts turned on (the CI and test VMs: 22), every dependency first. */
export function allResources(): ResourceSpec[] {
  return structuredClone(data.allResources) as ResourceSpec[];
}

/** The opt-in parts of the default blueprint (`Blueprint::opt_ins()`), all off. */
export function defaultOptIns(): OptIn[] {
  return structuredClone(data.optIns) as OptIn[];
}
