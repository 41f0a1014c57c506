import { NotBuilt } from "../../components/NotBuilt";

export function ArchitecturePage() {
  return (
    <NotBuilt>
      This page will draw the blueprint as a diagram (network, subnets, CI and test VMs, MySQL databases,
      Kubernetes cluster) with editable parameters. Plan will list every create, change and delete with a
      monthly cost estimate; Apply will show live progress per resource; Destroy will remove what Slipway
      created.
    </NotBuilt>
  );
}
