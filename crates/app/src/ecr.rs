//! Pushing to the project's ECR repositories: the registry a run pushes to once AWS is connected
//! and the blueprint's repositories exist.

use slipway_core::connections::ConnectionKind;
use slipway_core::pipeline::runner::RegistryTarget;
use slipway_core::provision::ResourceKind;
use slipway_core::UserError;

use crate::Slipway;

impl Slipway {
    /// The project's ECR registry with a fresh login (GetAuthorizationToken, valid 12 hours,
    /// held in memory only: never a docker config file, never the store). None when AWS is not
    /// connected, when the connection is the sandbox (its ECR is not a registry; the sandbox
    /// maps ECR to a local one), or when no repository was applied yet. Images go to
    /// `<registry>/<project>-<service>`, the repositories the blueprint makes, so the pipeline's
    /// project id and the blueprint's project are the same name.
    pub async fn ecr_registry_target(&self, project: &str) -> Result<Option<RegistryTarget>, UserError> {
        let Some(aws) = self.store.connection(ConnectionKind::Aws).await? else { return Ok(None) };
        if aws.config["source"] == "sandbox" {
            return Ok(None);
        }
        let applied = self.store.resources(project).await?.iter().any(|o| o.kind == ResourceKind::EcrRepository);
        if !applied {
            return Ok(None);
        }
        let bp = self.blueprint(Some(project)).await?;
        let target = self.aws_target().await?;
        let (server, auth) = slipway_aws::ecr::registry_login(&target, &bp.region).await?;
        Ok(Some(RegistryTarget { server, namespace: None, auth: Some(auth) }))
    }
}
