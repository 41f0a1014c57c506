// The mock backend's Export side (issue #7). Placeholder while it is being written.
import type { IntegrationEnv } from "./mockGithub";

export class MockExport {
  constructor(
    readonly env: IntegrationEnv,
    readonly opts: { seed: boolean },
  ) {}

  async handle(cmd: string, _a: Record<string, unknown>): Promise<unknown> {
    throw { what: `${cmd} is not in the mock yet`, why: "src/testing/mockExport.ts is being written", fix: "Wait for issue #7's UI" };
  }
}
