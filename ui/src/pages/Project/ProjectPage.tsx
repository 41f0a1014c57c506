import { NotBuilt } from "../../components/NotBuilt";

export function ProjectPage() {
  return (
    <NotBuilt>
      This page will let you point Slipway at a repository (on GitHub or a local path) and show the services it
      detects: the docker-compose file, Dockerfiles, tests, Kubernetes manifests and the environment variables
      they need.
    </NotBuilt>
  );
}
