// Data for the UI's unit tests of its own view models, written by the Rust side
// (crates/core/tests/ui_fixtures.rs, `cargo test -p slipway-core`) next to the generated types, so
// these tests read the real default blueprint and its resources instead of a TypeScript copy.
import data from "../bindings/fixtures/default-blueprint.json";
import type { Blueprint } from "../bindings/Blueprint";
import type { ResourceSpec } from "../bindings/ResourceSpec";

/** The default blueprint (`Blueprint::default()`). */
export function defaultBlueprint(): Blueprint {
  return structuredClone(data.blueprint) as Blueprint;
}

/** Its 21 resources (`Blueprint::resources()`), every dependency first. */
export function defaultResources(): ResourceSpec[] {
  return structuredClone(data.resources) as ResourceSpec[];
}
