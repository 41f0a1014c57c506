//! AWS provider: credential sources (profiles, static keys, environment, the sandbox), the STS
//! identity check, the region list, and the sandbox emulator process. Implements
//! [`slipway_core::providers::AwsProvider`]; nothing outside this crate sees an AWS SDK type.

pub mod ecr;
pub mod eks_token;
pub mod errors;
pub mod profiles;
pub mod provision;
pub mod public_ip;
pub mod sandbox;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use slipway_core::connections::{AwsProfile, AwsSource, Identity};
use slipway_core::providers::{AwsProvider, AwsTarget};
use slipway_core::UserError;
use std::time::Duration;

pub use provision::AwsDriver;

/// The credentials every request to the sandbox emulator uses (it accepts any).
pub const SANDBOX_KEY: &str = "testing";

/// Regions the SDK can be pointed at before we know which regions the account has. A region
/// outside this list is checked against DescribeRegions, called from us-east-1.
const WELL_KNOWN_REGIONS: &[&str] = &[
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
    "me-south-1", "af-south-1",
];

#[derive(Default, Clone)]
pub struct Aws;

/// The endpoint in use when it is not AWS itself: the target's, else AWS_ENDPOINT_URL.
pub fn effective_endpoint(target: &AwsTarget) -> Option<String> {
    target
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|s| !s.trim().is_empty()))
}

/// The HTTPS client of every AWS call: the SDK's own (hyper, rustls, the proxy from
/// `HTTPS_PROXY` and `NO_PROXY`, the SDK's timeouts), with rustls on ring, the crypto library
/// reqwest, kube and octocrab use too, so that the binary carries one, not two (the SDK's default
/// client would bring aws-lc).
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut c = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring));
        c.set_connector_settings(settings.cloned());
        if let Some(rc) = components {
            c.set_sleep_impl(rc.sleep_impl());
        }
        c.set_proxy_config(Some(ProxyConfig::from_env()));
        c.build()
    })
}

/// Builds the one SdkConfig every AWS client of a target shares.
pub async fn sdk_config(target: &AwsTarget, region: &str) -> Result<SdkConfig, UserError> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(15))
        .operation_timeout(Duration::from_secs(30))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(region.to_string()))
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
    if let Some(ep) = &target.endpoint {
        loader = loader.endpoint_url(ep.clone());
    }
    loader = match &target.source {
        AwsSource::Sandbox => loader.credentials_provider(Credentials::new(SANDBOX_KEY, SANDBOX_KEY, None, None, "slipway-sandbox")),
        AwsSource::Profile { name } => loader.profile_name(name),
        AwsSource::StaticKeys { .. } => {
            let keys = target.keys.as_ref().ok_or_else(|| {
                UserError::new(
                    "AWS keys missing",
                    "the static keys for this connection are not in the keychain",
                    "Enter the access key id and secret access key again on the Connect page (or `slipway connect aws --access-key-id ...`)",
                )
            })?;
            loader.credentials_provider(Credentials::new(
                keys.access_key_id.clone(),
                keys.secret_access_key.expose().to_string(),
                keys.session_token.as_ref().map(|t| t.expose().to_string()),
                None,
                "slipway-static",
            ))
        }
        AwsSource::Environment => loader,
    };
    Ok(loader.load().await)
}

fn probe_region(region: &str) -> &str {
    if WELL_KNOWN_REGIONS.contains(&region) || region.starts_with("us-gov-") || region.starts_with("cn-") {
        region
    } else {
        "us-east-1"
    }
}

fn check_region_shape(region: &str) -> Result<(), UserError> {
    if slipway_core::providers::is_region_name(region) {
        Ok(())
    } else {
        Err(UserError::new(
            "Unknown AWS region",
            format!("'{region}' is not an AWS region code"),
            "Pick a region such as us-east-1 or eu-west-1 from the list",
        ))
    }
}

#[async_trait]
impl AwsProvider for Aws {
    fn profiles(&self) -> Result<Vec<AwsProfile>, UserError> {
        profiles::list_profiles(&profiles::ProfilePaths::from_env())
    }

    async fn whoami(&self, target: &AwsTarget) -> Result<Identity, UserError> {
        check_region_shape(&target.region)?;
        let endpoint = effective_endpoint(target);
        let cfg = sdk_config(target, probe_region(&target.region)).await?;
        let sts = aws_sdk_sts::Client::new(&cfg);
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| errors::to_user_error("AWS sign-in check (STS GetCallerIdentity)", &e, &target.source, endpoint.as_deref()))?;
        if probe_region(&target.region) != target.region {
            // Not a region we know: ask the account whether it has it.
            let regions = self.regions_with(&cfg, target).await?;
            if !regions.iter().any(|r| r == &target.region) {
                return Err(unknown_region(&target.region, &regions));
            }
        }
        Ok(Identity::Aws {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
            region: target.region.clone(),
            endpoint,
            source: target.source.clone(),
        })
    }

    async fn regions(&self, target: &AwsTarget) -> Result<Vec<String>, UserError> {
        check_region_shape(&target.region)?;
        let cfg = sdk_config(target, probe_region(&target.region)).await?;
        self.regions_with(&cfg, target).await
    }
}

impl Aws {
    async fn regions_with(&self, cfg: &SdkConfig, target: &AwsTarget) -> Result<Vec<String>, UserError> {
        let ec2 = aws_sdk_ec2::Client::new(cfg);
        let out = ec2.describe_regions().send().await.map_err(|e| {
            errors::to_user_error("Listing AWS regions (EC2 DescribeRegions)", &e, &target.source, effective_endpoint(target).as_deref())
        })?;
        let mut names: Vec<String> = out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// The error for a region the account does not have.
pub fn unknown_region(region: &str, known: &[String]) -> UserError {
    let sample: Vec<&str> = known.iter().take(6).map(String::as_str).collect();
    UserError::new(
        "Unknown AWS region",
        format!("'{region}' is not one of the {} regions this account can use ({}...)", known.len(), sample.join(", ")),
        "Pick a region from the list on the Connect page, or `slipway connect aws --region <one of them>`",
    )
}
