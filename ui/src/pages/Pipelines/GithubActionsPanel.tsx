// Placeholder while this panel is being written (issue #7).
export function GithubActionsPanel() {
  return <p className="muted" data-testid="GithubActionsPanel-not-built">GitHub Actions runs: not built yet.</p>;
}
