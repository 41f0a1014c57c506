//! What the AWS suites share.

use slipway_core::connections::AwsSource;
use slipway_core::providers::{AwsKeys, AwsTarget};
use slipway_core::secrets::Secret;

/// Static example keys against `endpoint` (the emulator, the fault proxy or a stand-in).
pub fn static_target(endpoint: &str, region: &str) -> AwsTarget {
    AwsTarget {
        source: AwsSource::StaticKeys { access_key_id: "AKIAIOSFODNN7EXAMPLE".into() },
        region: region.into(),
        endpoint: Some(endpoint.into()),
        keys: Some(AwsKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }),
    }
}
