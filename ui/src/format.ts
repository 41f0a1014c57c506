// Wording shared by several pages. Labels for generated enum types live here, next to nothing else.

import type { AwsProfileKind } from "./bindings/AwsProfileKind";
import type { AwsSource } from "./bindings/AwsSource";
import type { ConnectionKind } from "./bindings/ConnectionKind";
import type { ConnectionState } from "./bindings/ConnectionState";
import type { SandboxStatus } from "./bindings/SandboxStatus";

export function connectionStateLabel(s: ConnectionState): string {
  switch (s) {
    case "connected":
      return "Connected";
    case "failed":
      return "Check failed";
    case "notConfigured":
      return "Not connected";
  }
}

export function connectionKindLabel(k: ConnectionKind): string {
  switch (k) {
    case "aws":
      return "AWS";
    case "github":
      return "GitHub";
    case "registry":
      return "Container registry";
    case "docker":
      return "Docker engine";
    case "kubernetes":
      return "Kubernetes";
  }
}

export function profileKindLabel(k: AwsProfileKind): string {
  switch (k) {
    case "staticKeys":
      return "static keys";
    case "sso":
      return "SSO";
    case "credentialProcess":
      return "credential process";
    case "assumeRole":
      return "assume role";
    case "other":
      return "other";
  }
}

export function awsSourceLabel(s: AwsSource): string {
  switch (s.source) {
    case "sandbox":
      return "Sandbox (local emulator)";
    case "profile":
      return `Profile ${s.name}`;
    case "staticKeys":
      return `Access key ${s.accessKeyId}`;
    case "environment":
      return "Environment variables";
  }
}

export function sandboxStatusLabel(s: SandboxStatus): string {
  switch (s) {
    case "stopped":
      return "stopped";
    case "installing":
      return "installing";
    case "starting":
      return "starting";
    case "running":
      return "running";
    case "failed":
      return "failed";
  }
}

/** "14:02:11" for today, "3 Mar, 14:02" otherwise. */
export function formatCheckedAt(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
