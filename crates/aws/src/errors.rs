//! Turns AWS SDK errors into [`UserError`]s that say what failed, why, and what to do next.

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use slipway_core::connections::AwsSource;
pub use slipway_core::error_chain;
use slipway_core::UserError;

fn fix_for_credentials(source: &AwsSource) -> String {
    match source {
        AwsSource::Profile { name } => format!(
            "Check profile '{name}' in ~/.aws/config and ~/.aws/credentials (for SSO, run `aws sso login --profile {name}`), or pick another profile"
        ),
        AwsSource::StaticKeys { .. } => "Check the access key id and secret access key (IAM console > Security credentials), then try again".into(),
        AwsSource::Environment => "Check the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE variables, or pick a profile".into(),
        AwsSource::Sandbox => "Restart the sandbox (Connect page, or `slipway sandbox down && slipway sandbox up`)".into(),
    }
}

/// Maps any SDK error of any operation to a UserError.
pub fn to_user_error<E, R>(what: &str, err: &SdkError<E, R>, source: &AwsSource, endpoint: Option<&str>) -> UserError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let where_ = endpoint.map(|e| e.to_string()).unwrap_or_else(|| "AWS".to_string());
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = e.message().unwrap_or("no message");
            let (why, fix) = match code {
                "InvalidClientTokenId" | "UnrecognizedClientException" | "AuthFailure" => (
                    format!("AWS does not recognise the access key id ({code}: {msg})"),
                    fix_for_credentials(source),
                ),
                "SignatureDoesNotMatch" => (
                    format!("the secret access key does not match the access key id ({code})"),
                    fix_for_credentials(source),
                ),
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => (
                    format!("the credentials have expired ({code}: {msg})"),
                    "Get fresh credentials (for SSO: `aws sso login`), then connect again".to_string(),
                ),
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => (
                    format!("the identity is not allowed to do this ({code}: {msg})"),
                    "Ask your AWS administrator for the permission, or use a profile that has it".to_string(),
                ),
                "Throttling" | "RequestLimitExceeded" | "ThrottlingException" => (
                    format!("AWS is throttling requests ({code})"),
                    "Wait a minute and try again".to_string(),
                ),
                _ => (format!("{where_} answered {code}: {msg}"), "Check the details above, then try again".to_string()),
            };
            UserError::new(what, why, fix)
        }
        SdkError::DispatchFailure(_) if error_chain(err).contains("loading credentials") => {
            let chain = error_chain(err);
            let detail = chain.split("loading credentials").nth(1).unwrap_or(&chain).trim_start_matches(':').trim();
            UserError::new(what, format!("the credentials could not be loaded: {detail}"), fix_for_credentials(source))
        }
        SdkError::DispatchFailure(df) => {
            let why = if df.is_timeout() {
                format!("{where_} did not answer in time")
            } else if df.is_io() {
                format!("cannot reach {where_} (connection failed)")
            } else {
                format!("cannot reach {where_}: {}", error_chain(err))
            };
            let fix = match (source, endpoint) {
                (AwsSource::Sandbox, _) => "Start the sandbox (Connect page, or `slipway sandbox up`) and try again".to_string(),
                (_, Some(ep)) => format!("Check that {ep} is running and reachable, or remove the custom endpoint (AWS_ENDPOINT_URL)"),
                _ => "Check your network connection and proxy settings, and that the region exists".to_string(),
            };
            UserError::new(what, why, fix)
        }
        SdkError::TimeoutError(_) => UserError::new(
            what,
            format!("{where_} did not answer within 30 s"),
            "Check your network and the endpoint, then try again",
        ),
        SdkError::ConstructionFailure(_) => UserError::new(
            what,
            format!("the request could not be built: {}", error_chain(err)),
            fix_for_credentials(source),
        ),
        SdkError::ResponseError(_) => UserError::new(
            what,
            format!("{where_} sent an answer that is not an AWS response: {}", error_chain(err)),
            "Check the endpoint URL points at AWS or an AWS emulator, and that the region exists",
        ),
        _ => UserError::new(what, error_chain(err), fix_for_credentials(source)),
    }
}
