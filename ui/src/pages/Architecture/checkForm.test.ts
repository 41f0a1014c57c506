import { describe, expect, test } from "vitest";

import { checkForm } from "./ArchitecturePage";

// The page against the real commands: tests/browser/architecture.test.ts.
describe("blueprint form", () => {
  test("numbers are checked before sending", () => {
    expect(checkForm({ dbStorageGb: "20", nodeCount: "two", ecrKeepImages: "20" })).toMatchObject({ what: "Blueprint not saved", why: expect.stringContaining("Node count") });
    expect(checkForm({ dbStorageGb: "20", nodeCount: "2", ecrKeepImages: "20" })).toBeNull();
  });
});
