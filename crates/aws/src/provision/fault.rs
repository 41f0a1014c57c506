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
    "InvalidIPAddress.InUse",
];

/// Codes that mean an account quota is used up: the quota, and how to get room. Retrying
/// does not help; the user frees one up or asks AWS for more.
const QUOTAS: &[(&str, &str, &str)] = &[
    (
        "NatGatewayLimitExceeded",
        "NAT gateways per Availability Zone (5 by default)",
        "Delete NAT gateways you no longer use (VPC console, NAT gateways), ask AWS for more in Service Quotas (Amazon VPC, \"NAT gateways per Availability Zone\"), or set Node subnets to public, which needs no NAT gateway",
    ),
    (
        "AddressLimitExceeded",
        "Elastic IP addresses per Region (5 by default)",
        "Release Elastic IPs you no longer use (EC2 console, Elastic IPs), ask AWS for more in Service Quotas (Amazon EC2, \"EC2-VPC Elastic IPs\"), or set Node subnets to public, which needs no Elastic IP",
    ),
    ("VpcLimitExceeded", "VPCs per Region (5 by default)", "Delete a VPC you no longer use, or ask AWS for more in Service Quotas (Amazon VPC, \"VPCs per Region\")"),
    (
        "InternetGatewayLimitExceeded",
        "internet gateways per Region (5 by default)",
        "Delete an internet gateway you no longer use, or ask AWS for more in Service Quotas (Amazon VPC, \"Internet gateways per Region\")",
    ),
    (
        "VcpuLimitExceeded",
        "vCPUs of running On-Demand instances",
        "Stop instances you no longer use, pick smaller instance types, or ask AWS for more in Service Quotas (Amazon EC2, \"Running On-Demand Standard instances\")",
    ),
    ("InstanceLimitExceeded", "running instances", "Stop instances you no longer use, or ask AWS for more in Service Quotas (Amazon EC2)"),
    ("InstanceQuotaExceeded", "DB instances", "Delete DB instances you no longer use, or ask AWS for more in Service Quotas (Amazon RDS, \"DB instances\")"),
    ("DBInstanceQuotaExceeded", "DB instances", "Delete DB instances you no longer use, or ask AWS for more in Service Quotas (Amazon RDS, \"DB instances\")"),
    ("LimitExceeded", "IAM roles or policies of the account", "Delete IAM roles you no longer use, or ask AWS for more in Service Quotas (IAM, \"Roles per account\")"),
    ("LimitExceededException", "ECR repositories or lifecycle rules", "Delete repositories you no longer use, or ask AWS for more in Service Quotas (Amazon ECR, \"Registered repositories\")"),
    ("ResourceLimitExceededException", "EKS clusters or node groups", "Delete clusters you no longer use, or ask AWS for more in Service Quotas (Amazon EKS)"),
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

/// The answer of a read by name or id: its output, or None when what it asked for does not exist.
pub(crate) fn found<O, E>(about: About<'_>, r: Result<O, SdkError<E, HttpResponse>>) -> Result<Option<O>, ProvisionError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(o) => Ok(Some(o)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(map(about, &e)),
    }
}

/// The answer of a delete call (or of a detach before one): done, or what it named was gone
/// already, which is what a delete wants too.
pub(crate) fn gone<O, E>(about: About<'_>, r: Result<O, SdkError<E, HttpResponse>>) -> Result<(), ProvisionError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(map(about, &e)),
    }
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
            } else if let Some((_, quota, fix)) = QUOTAS.iter().find(|(c, _, _)| *c == code) {
                ProvisionError::Quota { why: format!("{text} (the account's quota of {quota} is used up)"), fix: fix.to_string() }
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    const VPC: About<'static> = About { kind: ResourceKind::Vpc, name: "shop-vpc" };

    fn service(status: u16, code: &str, message: &str) -> SdkError<DescribeVpcsError, HttpResponse> {
        let err = DescribeVpcsError::generic(ErrorMetadata::builder().code(code).message(message).build());
        SdkError::service_error(err, HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()))
    }

    #[test]
    fn throttling_and_5xx_are_retryable() {
        for (status, code) in [(503, "RequestLimitExceeded"), (400, "Throttling"), (429, "ThrottlingException"), (400, "TooManyRequestsException"), (500, "InternalError"), (503, "ServiceUnavailable")] {
            let e = map(VPC, &service(status, code, "slow down"));
            assert_eq!(e, ProvisionError::Retryable(format!("VPC shop-vpc: {code}: slow down")));
        }
    }

    #[test]
    fn in_use_is_not_yet_and_the_rest_is_fatal_with_the_code() {
        for code in ["DependencyViolation", "InvalidDBSubnetGroupStateFault", "ResourceInUseException", "DeleteConflict"] {
            assert!(matches!(map(VPC, &service(400, code, "in use")), ProvisionError::NotYet(m) if m == format!("VPC shop-vpc: {code}: in use")));
        }
        let e = map(VPC, &service(400, "InvalidParameterValue", "bad CIDR"));
        assert_eq!(e, ProvisionError::Fatal("VPC shop-vpc: InvalidParameterValue: bad CIDR".into()));
    }

    #[test]
    fn a_used_up_quota_names_the_quota_and_the_fix() {
        let nat = About { kind: ResourceKind::NatGateway, name: "shop-nat" };
        match map(nat, &service(400, "NatGatewayLimitExceeded", "The maximum number of NAT Gateways has been reached.")) {
            ProvisionError::Quota { why, fix } => {
                assert_eq!(why, "NAT gateway shop-nat: NatGatewayLimitExceeded: The maximum number of NAT Gateways has been reached. (the account's quota of NAT gateways per Availability Zone (5 by default) is used up)");
                assert!(fix.contains("Service Quotas") && fix.contains("Node subnets to public"), "{fix}");
            }
            other => panic!("{other:?}"),
        }
        let eip = About { kind: ResourceKind::ElasticIp, name: "shop-nat" };
        assert!(matches!(map(eip, &service(400, "AddressLimitExceeded", "too many")), ProvisionError::Quota { why, .. } if why.contains("Elastic IP addresses per Region")));
        assert!(!map(eip, &service(400, "AddressLimitExceeded", "too many")).is_retryable());
    }

    #[test]
    fn not_found_codes_of_every_service() {
        for code in ["InvalidVpcID.NotFound", "DBInstanceNotFound", "DBSubnetGroupNotFoundFault", "NoSuchEntity", "ResourceNotFoundException"] {
            assert!(is_not_found(&service(400, code, "")), "{code}");
        }
        assert!(!is_not_found(&service(400, "DependencyViolation", "")));
    }

    #[test]
    fn timeouts_and_connection_failures_are_retryable() {
        let e: SdkError<DescribeVpcsError, HttpResponse> = SdkError::timeout_error("slow");
        assert!(matches!(map(VPC, &e), ProvisionError::Retryable(m) if m.starts_with("VPC shop-vpc: ")));
        let e: SdkError<DescribeVpcsError, HttpResponse> = SdkError::dispatch_failure(ConnectorError::io("reset by peer".into()));
        assert!(matches!(map(VPC, &e), ProvisionError::Retryable(m) if m.contains("connection to AWS failed")));
        let e: SdkError<DescribeVpcsError, HttpResponse> = SdkError::response_error("not xml", HttpResponse::new(StatusCode::try_from(502).unwrap(), SdkBody::empty()));
        assert!(matches!(map(VPC, &e), ProvisionError::Retryable(_)));
    }

    #[test]
    fn a_secret_in_an_aws_message_is_scrubbed() {
        let e = map_scrubbed(VPC, &service(400, "InvalidParameterValue", "password 'hunter2hunter2' is too weak"), Some("hunter2hunter2"));
        let m = e.to_string();
        assert!(!m.contains("hunter2hunter2") && m.contains("[redacted]"), "{m}");
    }
}
