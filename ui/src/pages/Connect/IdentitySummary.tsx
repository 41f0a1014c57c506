import type { Identity } from "../../bindings/Identity";
import { awsSourceLabel } from "../../format";

function Row({ label, testId, children }: { label: string; testId: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </>
  );
}

/** Who a check says you are, per kind. */
export function IdentitySummary({ identity }: { identity: Identity }) {
  switch (identity.kind) {
    case "aws":
      return (
        <dl className="facts">
          <Row label="Account" testId="aws-account">{identity.account}</Row>
          <Row label="ARN" testId="aws-arn"><code>{identity.arn}</code></Row>
          <Row label="Region" testId="aws-region">{identity.region}</Row>
          <Row label="Endpoint" testId="aws-endpoint">
            {identity.endpoint ? <code>{identity.endpoint}</code> : "AWS (public endpoints)"}
          </Row>
          <Row label="Credentials" testId="aws-source">{awsSourceLabel(identity.source)}</Row>
        </dl>
      );
    case "github":
      return (
        <dl className="facts">
          <Row label="Login" testId="github-login">
            {identity.login}
            {identity.name ? <span className="muted"> ({identity.name})</span> : null}
          </Row>
          <Row label="Scopes" testId="github-scopes">
            {identity.scopes.length ? (
              <span className="chips">
                {identity.scopes.map((s) => (
                  <span className="chip" key={s}>{s}</span>
                ))}
              </span>
            ) : (
              <span className="muted">none (fine-grained token or no scopes)</span>
            )}
          </Row>
          <Row label="API" testId="github-api-url"><code>{identity.baseUrl}</code></Row>
        </dl>
      );
    case "registry":
      return (
        <dl className="facts">
          <Row label="Signed in as" testId="registry-user">
            <code>{identity.username}@{identity.registry}</code>
          </Row>
          <Row label="Credentials" testId="registry-source">
            {identity.fromDockerConfig ? "from ~/.docker/config.json" : "stored in the OS keychain"}
          </Row>
        </dl>
      );
    case "docker":
      return (
        <dl className="facts">
          <Row label="Version" testId="docker-version">
            {identity.version} <span className="muted">(API {identity.apiVersion}, {identity.os})</span>
          </Row>
          <Row label="Host" testId="docker-host"><code>{identity.host}</code></Row>
        </dl>
      );
    case "kubernetes":
      return (
        <dl className="facts">
          <Row label="Context" testId="kubernetes-context">{identity.context}</Row>
          <Row label="Server" testId="kubernetes-server"><code>{identity.server}</code></Row>
          <Row label="Version" testId="kubernetes-version">{identity.version}</Row>
        </dl>
      );
  }
}
