//! SDK errors of provisioning calls as [`ProvisionError`]s: throttling, 5xx, timeouts and
//! connection failures are `Retryable`; "in use" / wrong-state answers are `NotYet`; the rest is
//! `Fatal` and reads "<kind label> <name>: <AWS code>: <message>".

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use slipway_core::provision::{ProvisionError, ResourceKind};

use crate::errors::error_chain;

/// Error codes AWS uses for throttling (EC2, query services, JSON / REST-JSON services).
const THROTTLING: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// Codes that mean "something still uses it / it is in a state that forbids this now".
const NOT_YET: &[&str] = &[
    "DependencyViolation",
    "InvalidDBSubnetGroupStateFault",
    "InvalidDBSubnetGroupState",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "ResourceInUse",
    "ResourceInUseException",
    "DeleteConflict",
    "InvalidGroup.InUse",
    "IncorrectState",
    "IncorrectInstanceState",
    "ConcurrentModification",
];

/// What a call was about, for the message.
#[derive(Clone, Copy)]
pub(crate) struct About<'a> {
    pub kind: ResourceKind,
    pub name: &'a str,
}

impl About<'_> {
    pub fn fatal(&self, why: impl std::fmt::Display) -> ProvisionError {
        ProvisionError::Fatal(format!("{} {}: {why}", self.kind.label(), self.name))
    }
    pub fn not_yet(&self, why: impl std::fmt::Display) -> ProvisionError {
        ProvisionError::NotYet(format!("{} {}: {why}", self.kind.label(), self.name))
    }
}

/// The AWS error code of a service error, if it is one.
pub(crate) fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(_) => e.code(),
        _ => None,
    }
}

/// True for "the thing does not exist" answers (EC2 `*.NotFound`, RDS `*NotFound*`,
/// IAM `NoSuchEntity`, EKS `ResourceNotFoundException`).
pub(crate) fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    code(e).is_some_and(|c| c.ends_with(".NotFound") || c.contains("NotFound") || c == "NoSuchEntity" || c == "ResourceNotFoundException")
}

/// Maps any SDK error of a provisioning call. `secret`, when given, is scrubbed from the message.
pub(crate) fn map<E>(about: About<'_>, e: &SdkError<E, HttpResponse>) -> ProvisionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    map_scrubbed(about, e, None)
}

pub(crate) fn map_scrubbed<E>(about: About<'_>, e: &SdkError<E, HttpResponse>, secret: Option<&str>) -> ProvisionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let head = format!("{} {}", about.kind.label(), about.name);
    let scrub = |s: String| match secret {
        Some(sec) if !sec.is_empty() => s.replace(sec, "[redacted]"),
        _ => s,
    };
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = e.code().unwrap_or("Unknown");
            let msg = scrub(e.message().unwrap_or("no message").to_string());
            let text = format!("{head}: {code}: {msg}");
            if THROTTLING.contains(&code) || status == 429 || status >= 500 {
                ProvisionError::Retryable(text)
            } else if NOT_YET.contains(&code) {
                ProvisionError::NotYet(text)
            } else {
                ProvisionError::Fatal(text)
            }
        }
        SdkError::TimeoutError(_) => ProvisionError::Retryable(format!("{head}: AWS did not answer in time")),
        SdkError::DispatchFailure(df) => {
            let why = if df.is_timeout() {
                "AWS did not answer in time".to_string()
            } else if df.is_io() {
                format!("connection to AWS failed ({})", scrub(error_chain(e)))
            } else {
                format!("cannot reach AWS: {}", scrub(error_chain(e)))
            };
            ProvisionError::Retryable(format!("{head}: {why}"))
        }
        SdkError::ResponseError(re) => {
            let status = re.raw().status().as_u16();
            if status >= 500 || status == 429 {
                ProvisionError::Retryable(format!("{head}: AWS answered HTTP {status}"))
            } else {
                ProvisionError::Fatal(format!("{head}: AWS sent an answer that could not be read (HTTP {status}): {}", scrub(error_chain(e))))
            }
        }
        SdkError::ConstructionFailure(_) => ProvisionError::Fatal(format!("{head}: the request could not be built: {}", scrub(error_chain(e)))),
        _ => ProvisionError::Fatal(format!("{head}: {}", scrub(error_chain(e)))),
    }
}
