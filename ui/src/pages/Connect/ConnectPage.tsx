import { ErrorCallout } from "../../components/ErrorCallout";
import { useStore } from "../../state/store";
import { AwsCard } from "./AwsCard";
import { DetectedCard } from "./DetectedCard";
import { GithubCard } from "./GithubCard";
import { JenkinsCard } from "./JenkinsCard";
import { RegistryCard } from "./RegistryCard";

export function ConnectPage() {
  const { state } = useStore();
  return (
    <>
      <p className="lede">
        Connect Slipway to the systems it works with. Each connection is checked live and shows who you are.
        Secrets go to the OS keychain, never to disk in clear.
      </p>
      {state.loadError && <ErrorCallout error={state.loadError} testId="load-error" />}
      <div className="cards">
        <AwsCard />
        <GithubCard />
        <RegistryCard />
        <DetectedCard kind="docker" />
        <DetectedCard kind="kubernetes" />
        <JenkinsCard />
      </div>
    </>
  );
}
