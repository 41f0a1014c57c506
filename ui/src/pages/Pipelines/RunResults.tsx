import { Fragment, useState } from "react";

import type { Artifacts } from "../../bindings/Artifacts";
import type { TestReport } from "../../bindings/TestReport";
import { failingCases, percent } from "./model";

/** Test results per service (failing cases expandable), coverage, images and the deployed URL. */
export function RunResults({ artifacts }: { artifacts: Artifacts }) {
  const { tests, coverage, images, url } = artifacts;
  if (tests.length === 0 && coverage.length === 0 && images.length === 0 && url === null) {
    return (
      <p className="muted" data-testid="run-results-empty">
        Test results, coverage, images and the app's URL appear here as the stages finish.
      </p>
    );
  }
  return (
    <div className="pl-results">
      {url && (
        <p className="pl-url">
          Deployed: <a href={url} target="_blank" rel="noreferrer" data-testid="deploy-url">{url}</a>
        </p>
      )}
      {tests.length > 0 && <TestTable reports={tests} />}
      {coverage.length > 0 && (
        <section aria-label="Coverage">
          <h3>Coverage</h3>
          <table className="plan-table" data-testid="coverage-table">
            <thead>
              <tr>
                <th>Service</th>
                <th className="num">Lines</th>
                <th>Covered</th>
              </tr>
            </thead>
            <tbody>
              {coverage.map((c) => (
                <tr key={c.service} data-testid="coverage-row" data-service={c.service}>
                  <td>{c.service}</td>
                  <td className="num">
                    {c.linesCovered} of {c.linesValid}
                  </td>
                  <td>
                    <span className="pl-cov">
                      <span className="pl-cov-bar" aria-hidden="true">
                        <span style={{ width: `${Math.min(100, c.lineRate * 100)}%` }} />
                      </span>
                      {percent(c.lineRate)}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {images.length > 0 && (
        <section aria-label="Images">
          <h3>Images</h3>
          <table className="plan-table" data-testid="images-table">
            <thead>
              <tr>
                <th>Service</th>
                <th>Built</th>
                <th>Pushed</th>
              </tr>
            </thead>
            <tbody>
              {images.map((i) => (
                <tr key={i.service} data-testid="image-row" data-service={i.service}>
                  <td>{i.service}</td>
                  <td>
                    <code>{i.image}</code>
                  </td>
                  <td>
                    {i.pushed ? (
                      <>
                        <code>{i.pushed}</code>
                        {i.digest && (
                          <div>
                            <code className="muted" data-testid="image-digest">
                              {i.digest}
                            </code>
                          </div>
                        )}
                      </>
                    ) : (
                      <span className="muted">not pushed</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

function TestTable({ reports }: { reports: TestReport[] }) {
  // Services with failures show them unless folded: that is what a person opens a failed run for.
  const [toggled, setToggled] = useState<Set<string>>(() => new Set());
  const toggle = (s: string) =>
    setToggled((o) => {
      const n = new Set(o);
      if (n.has(s)) n.delete(s);
      else n.add(s);
      return n;
    });
  return (
    <section aria-label="Test results">
      <h3>Tests</h3>
      <table className="plan-table pl-tests" data-testid="test-results">
        <thead>
          <tr>
            <th>Service</th>
            <th className="num">Passed</th>
            <th className="num">Failed</th>
            <th className="num">Errors</th>
            <th className="num">Skipped</th>
            <th className="num">Time</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {reports.map((r) => {
            const bad = failingCases(r.cases);
            const expanded = bad.length > 0 && !toggled.has(r.service);
            return (
              <Fragment key={r.service}>
                <tr data-testid="test-row" data-service={r.service} className={bad.length ? "pl-test-bad" : "pl-test-ok"}>
                  <td>{r.service}</td>
                  <td className="num">{r.passed}</td>
                  <td className="num">{r.failed}</td>
                  <td className="num">{r.errors}</td>
                  <td className="num">{r.skipped}</td>
                  <td className="num">{r.seconds.toFixed(2)}s</td>
                  <td>
                    {bad.length > 0 && (
                      <button type="button" className="link" data-testid="test-expand" aria-expanded={expanded} onClick={() => toggle(r.service)}>
                        {expanded ? "Hide" : "Show"} {bad.length} failing
                      </button>
                    )}
                  </td>
                </tr>
                {expanded &&
                  bad.map((c) => (
                    <tr key={`${c.className}.${c.name}`} className="pl-case" data-testid="test-case" data-case={c.name}>
                      <td colSpan={7}>
                        <div className="pl-case-head">
                          <span className="pl-case-outcome">{c.outcome}</span> <code>{c.className}</code>.<strong>{c.name}</strong>
                        </div>
                        {c.message && (
                          <pre className="pl-case-message" data-testid="test-case-message">
                            {c.message}
                          </pre>
                        )}
                      </td>
                    </tr>
                  ))}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
