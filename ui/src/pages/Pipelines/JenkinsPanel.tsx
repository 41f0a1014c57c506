// Placeholder while this panel is being written (issue #7).
export function JenkinsPanel() {
  return <p className="muted" data-testid="JenkinsPanel-not-built">Jenkins: not built yet.</p>;
}
