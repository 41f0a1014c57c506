// The mock backend's Github side (issue #7). Placeholder while it is being written.
import type { Event } from "../bindings/Event";
import type { Project } from "../bindings/Project";
import type { Blueprint } from "../bindings/Blueprint";
import type { ConnectionStatus } from "../bindings/ConnectionStatus";

type ChannelLike = { id: number };

/** What the #7 mocks use of the MockBackend around them. */
export type IntegrationEnv = {
  now: () => number;
  emit: (events: Event[]) => void;
  /** One channel message; false when the page's side is gone. */
  send: (channel: ChannelLike, message: unknown) => boolean;
  end: (channel: ChannelLike) => void;
  /** The GitHub connection as the Connect page shows it. */
  github: () => ConnectionStatus;
  projects: () => Project[];
  blueprint: () => Blueprint;
};

export class MockGithub {
  constructor(
    readonly env: IntegrationEnv,
    readonly opts: { seed: boolean },
  ) {}

  async handle(cmd: string, _a: Record<string, unknown>): Promise<unknown> {
    throw { what: `${cmd} is not in the mock yet`, why: "src/testing/mockGithub.ts is being written", fix: "Wait for issue #7's UI" };
  }
}
